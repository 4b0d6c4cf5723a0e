"""The benchmark's measuring tools without a server: how the counting proxy frames and
classifies what a PostgreSQL client sends, and how results become a table and a chart.
(The proxy against PostgreSQL and the wrk load against HTTP are in
tests/integration/test_bench_tools.py.)"""

from __future__ import annotations

import itertools
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.load import LoadResult, combined, run_wrk
from bench.pgcount import Counts, FrontendStream, Tally, is_transaction_control, split_statements
from bench.report import TIMES, Measurement, chart, markdown, write

# --- the client stream ------------------------------------------------------------------


def message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!I", len(body) + 4) + body


def query(sql: str) -> bytes:
    return message(b"Q", sql.encode() + b"\0")


def parse(name: str, sql: str) -> bytes:
    return message(b"P", name.encode() + b"\0" + sql.encode() + b"\0" + b"\0\0")


def bind(portal: str, statement: str) -> bytes:
    return message(b"B", portal.encode() + b"\0" + statement.encode() + b"\0" + b"\0" * 6)


def execute(portal: str = "") -> bytes:
    return message(b"E", portal.encode() + b"\0" + b"\0\0\0\0")


def close(kind: bytes, name: str) -> bytes:
    return message(b"C", kind + name.encode() + b"\0")


SYNC = message(b"S", b"")
FLUSH = message(b"H", b"")
DESCRIBE = message(b"D", b"S\0")

# What a session sends after its startup: simple queries, a transaction, a named and the
# unnamed prepared statement, a COPY with a large CopyData, a closed statement.
SESSION = b"".join(
    [
        query("SELECT 1"),
        query("BEGIN; UPDATE t SET a = 1; COMMIT"),
        parse("s1", "SELECT $1::int"),
        DESCRIBE,
        FLUSH,
        bind("", "s1"),
        execute(),
        SYNC,
        bind("", "s1"),
        execute(),
        SYNC,
        parse("", "begin"),
        bind("", ""),
        execute(),
        parse("", "INSERT INTO t VALUES ($1)"),
        bind("", ""),
        execute(),
        bind("p1", ""),
        execute("p1"),
        execute("p1"),  # a suspended portal fetched again
        parse("", "COMMIT"),
        bind("", ""),
        execute(),
        SYNC,
        query("COPY t FROM STDIN"),
        message(b"d", b"x" * 70_000),
        message(b"c", b""),
        close(b"S", "s1"),
        parse("", ";"),
        bind("", ""),
        execute(),
        SYNC,
        message(b"X", b""),
    ]
)
EXPECTED = Counts(
    statements=1 + 1 + 2 + 1 + 2 + 1,
    transaction_control=2 + 2,
    round_trips=3 + 4 + 1,  # Query, Sync, Flush
    empty_queries=1,
)


def counted(chunks: list[bytes]) -> Counts:
    tally = Tally()
    stream = FrontendStream(tally)
    for chunk in chunks:
        stream.feed(chunk)
    counts = tally.snapshot()
    return Counts(
        counts.statements, counts.transaction_control, counts.round_trips, counts.empty_queries
    )


def test_a_session_in_one_read_is_counted_by_kind() -> None:
    assert counted([SESSION]) == EXPECTED


def test_a_session_read_a_byte_at_a_time_counts_the_same() -> None:
    assert counted([SESSION[i : i + 1] for i in range(len(SESSION))]) == EXPECTED


@settings(max_examples=200, deadline=None, database=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=len(SESSION)), max_size=40))
def test_a_session_split_anywhere_counts_the_same(cuts: list[int]) -> None:
    points = [0, *sorted(cuts), len(SESSION)]
    assert counted([SESSION[a:b] for a, b in itertools.pairwise(points)]) == EXPECTED


def test_statement_texts_say_what_ran_and_how_often() -> None:
    tally = Tally()
    FrontendStream(tally).feed(SESSION)
    texts = tally.snapshot().texts
    assert texts["SELECT $1::int"] == 2
    assert texts["INSERT INTO t VALUES ($1)"] == 3
    assert texts["COPY t FROM STDIN"] == 1


def test_an_execute_of_a_closed_statement_still_counts() -> None:
    tally = Tally()
    stream = FrontendStream(tally)
    stream.feed(parse("s", "SELECT 1") + close(b"S", "s") + bind("", "s") + execute())
    assert tally.snapshot().statements == 1


def test_reset_starts_the_counts_again() -> None:
    tally = Tally()
    FrontendStream(tally).feed(SESSION)
    tally.reset()
    assert tally.snapshot() == Counts()


# --- statements -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "sql",
    [
        "BEGIN",
        "begin isolation level serializable",
        "START TRANSACTION READ ONLY",
        "COMMIT",
        "END",
        "ROLLBACK TO SAVEPOINT s",
        "abort",
        "SAVEPOINT s",
        "RELEASE SAVEPOINT s",
        "PREPARE TRANSACTION 'x'",
        "  -- a comment\n /* another */ COMMIT;",
    ],
)
def test_transaction_control_is_recognised(sql: str) -> None:
    assert is_transaction_control(sql)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "PREPARE q AS SELECT 1",
        "-- BEGIN\nSELECT 1",
        "WITH x AS (SELECT 1) SELECT * FROM x",
        "UPDATE t SET committed = true",
        "",
    ],
)
def test_other_statements_are_not_transaction_control(sql: str) -> None:
    assert not is_transaction_control(sql)


def test_a_simple_query_splits_at_semicolons_outside_quotes_and_comments() -> None:
    sql = (
        "SELECT ';', \"a;b\", E'\\';' FROM t; -- c;d\n"
        "INSERT INTO t VALUES ($$x;y$$, $tag$;$tag$); /* e; /* nested; */ f; */ ;;"
        " SELECT $1"
    )
    assert [s.strip() for s in split_statements(sql)] == [
        "SELECT ';', \"a;b\", E'\\';' FROM t",
        "-- c;d\nINSERT INTO t VALUES ($$x;y$$, $tag$;$tag$)",
        "SELECT $1",
    ]


def test_an_empty_query_has_no_statement() -> None:
    assert split_statements(" ; -- nothing\n;") == []


# --- the report -------------------------------------------------------------------------


def measurement(server: str, workload: str, concurrency: int, rate: float) -> Measurement:
    return Measurement(
        server=server,
        workload=workload,
        concurrency=concurrency,
        requests_per_s=rate,
        p50_ms=1000 / rate if rate else 0.0,
        p99_ms=3000 / rate if rate else 0.0,
        statements=None if server == "SQL floor" else 2.5,
        peak_rss_mib=None if server == "SQL floor" else 151.26,
        errors=0,
    )


MEASUREMENTS = [
    measurement("PayGraph", "W10", 1, 1234.5),
    measurement("PayGraph", "W2", 16, 2469.0),
    measurement("naive Strawberry", "W2", 16, 20.0),
    measurement("PayGraph", "W2", 1, 800.0),
    measurement("naive Strawberry", "W2", 1, 12.5),
    measurement("SQL floor", "W2", 1, 4000.0),
    measurement("naive Strawberry", "W10", 1, 0.0),
]


def rows(table: str) -> list[list[str]]:
    lines = table.strip().splitlines()[2:]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def test_rows_go_by_workload_then_concurrency_then_server_as_given() -> None:
    order = [(r[0], r[2], r[1]) for r in rows(markdown(MEASUREMENTS))]
    assert order == [
        ("W2", "1", "PayGraph"),
        ("W2", "1", "naive Strawberry"),
        ("W2", "1", "SQL floor"),
        ("W2", "16", "PayGraph"),
        ("W2", "16", "naive Strawberry"),
        ("W10", "1", "PayGraph"),
        ("W10", "1", "naive Strawberry"),
    ]


def test_the_ratio_is_paygraphs_rate_over_the_servers_at_the_same_point() -> None:
    ratios = {(r[0], r[2], r[1]): r[-1] for r in rows(markdown(MEASUREMENTS))}
    assert ratios[("W2", "1", "naive Strawberry")] == f"64.0{TIMES}"
    assert ratios[("W2", "16", "naive Strawberry")] == f"123{TIMES}"
    assert ratios[("W2", "1", "SQL floor")] == f"0.20{TIMES}"
    assert ratios[("W2", "1", "PayGraph")] == "—"
    assert ratios[("W10", "1", "naive Strawberry")] == "—"  # no rate to divide by


def test_numbers_are_formatted_for_reading() -> None:
    table = markdown(MEASUREMENTS)
    first = rows(table)[0]  # W2, PayGraph, concurrency 1: 800 req/s
    assert first[3:9] == ["800", "1.2", "3.8", "2.5", "151", "0"]
    slow = rows(table)[1]  # 12.5 req/s
    assert slow[3:6] == ["12.5", "80.0", "240.0"]
    floor = rows(table)[2]
    assert floor[5:8] == ["0.75", "—", "—"]
    assert "| 1,234 |" in table
    assert table.splitlines()[0].endswith("| PayGraph ÷ server |")


def test_notes_get_a_column_only_when_there_are_some() -> None:
    noted = [*MEASUREMENTS[:1], Measurement("X", "W10", 1, 5, 1, 2, 1, 1, 3, note="a|b")]
    assert "note" not in markdown(MEASUREMENTS).splitlines()[0]
    assert markdown(noted).splitlines()[-1].endswith("| a\\|b |")


def test_the_chart_is_a_png(tmp_path: Path) -> None:
    path = chart(MEASUREMENTS, tmp_path / "chart.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 10_000


def test_write_puts_the_table_and_the_chart_side_by_side(tmp_path: Path) -> None:
    document, png = write(MEASUREMENTS, tmp_path / "out", "run1", {"cores": "2"})
    assert (document.name, png.name) == ("run1.md", "run1.png")
    text = document.read_text()
    assert "- cores: 2" in text
    assert "![requests per second](run1.png)" in text
    assert markdown(MEASUREMENTS) in text
    assert png.stat().st_size > 0


# --- the load generator's arguments -------------------------------------------------------


@pytest.mark.parametrize(
    ("connections", "threads", "body"),
    [(0, None, b"{}"), (3, 2, b"{}"), (16, 3, b"{}"), (4, None, [])],
)
def test_run_wrk_refuses_arguments_it_cannot_honour(
    connections: int, threads: int | None, body: bytes | list[bytes]
) -> None:
    # wrk gives each thread connections // threads and would drop the remainder
    with pytest.raises(ValueError):
        run_wrk("http://127.0.0.1:1/", body, {}, connections, 1, threads)


# --- turns of one server's load ------------------------------------------------------------


def turn(requests: int, seconds: float, p50: float, errors: int = 0) -> LoadResult:
    return LoadResult(
        requests=requests,
        duration_s=seconds,
        requests_per_s=requests / seconds,
        p50_ms=p50,
        p90_ms=p50 * 2,
        p99_ms=p50 * 3,
        errors=errors,
        socket_errors=0,
    )


def test_turns_combine_into_their_responses_over_their_time_and_median_latencies() -> None:
    turns = [turn(100, 1.0, 4.0), turn(300, 1.0, 2.0, errors=1), turn(200, 2.0, 3.0)]

    whole = combined(turns)

    assert (whole.requests, whole.duration_s, whole.requests_per_s) == (600, 4.0, 150.0)
    assert (whole.p50_ms, whole.p90_ms, whole.p99_ms) == (3.0, 6.0, 9.0)
    assert whole.errors == 1
    assert combined([turn(10, 1.0, 1.0), turn(10, 1.0, 2.0)]).p50_ms == 1.5


def test_no_turns_are_no_result() -> None:
    with pytest.raises(ValueError, match="no runs"):
        combined([])
