"""bench/dos.py's bookkeeping without a server: the issue's query as written, and how
probe outcomes become a summary and a table row."""

from __future__ import annotations

from bench.dos_cases import aliases
from bench.dos_http import Outcome, summary
from bench.dos_report import Section, answer, answers, tally


def test_the_measured_query_is_the_issues_own() -> None:
    assert len(aliases(15)) == 1_793
    assert len(aliases(1)) == 122


def test_summary_counts_every_kind_of_failure_and_the_worst_wait() -> None:
    # given three probes: answered, refused with a code, never answered
    outcomes = [
        Outcome(status=200, seconds=0.1),
        Outcome(status=200, seconds=30.0, codes=["INTERNAL_SERVER_ERROR"]),
        Outcome(status=None, seconds=60.0, error="unanswered"),
    ]
    # when they are summed up
    found = summary(outcomes)
    # then
    assert found["sent"] == 3 and found["ok"] == 1
    assert found["worst_s"] == 60.0
    assert found["failures"] == {"200 INTERNAL_SERVER_ERROR": 1, "unanswered": 1}


def test_answers_read_plain_text_errors_and_tables_escape_pipes() -> None:
    plain = Outcome(status=500, seconds=0.0, content_type="text/plain")
    assert answer(plain) == "500 (text/plain)"
    assert tally(answers([plain, plain])) == "2 x 500 (text/plain)"
    section = Section("t", ["input", "answer"], rows=[["a|b", answer(plain)]])
    assert "| a\\|b | 500 (text/plain) |" in section.markdown()
