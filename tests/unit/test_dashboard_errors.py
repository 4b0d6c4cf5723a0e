"""The dashboard shows every error code docs/errors.md lists as a sentence of its own
(dashboard/src/errors.ts), so a new code is not shown raw."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_dashboard_has_a_message_for_every_documented_error_code() -> None:
    documented = re.findall(
        r"^\| `([A-Z0-9_-]+)` \|", (ROOT / "docs" / "errors.md").read_text(), re.M
    )
    messages = (ROOT / "dashboard" / "src" / "errors.ts").read_text()
    table = messages.split("const MESSAGES", 1)[1].split("\n};", 1)[0]
    keys = re.findall(r'^  "?([A-Z0-9_-]+)"?:', table, re.M)

    assert len(documented) > 30
    assert sorted(keys) == sorted(documented)
