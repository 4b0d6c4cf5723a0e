"""Debian's chromium for the browser tests (scripts/chromium installs it; scripts/test
runs that): required with CI=true, the tests skipped without it elsewhere."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.databases import in_ci

CHROMIUM = Path("/usr/bin/chromium")


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if in_ci():
        pytest.fail(f"{CHROMIUM} is missing: scripts/chromium installs it (scripts/test runs it)")
    pytest.skip(f"the browser tests need Debian's chromium at {CHROMIUM} (scripts/chromium)")


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """Chromium, headless, launched by Playwright (no browser download)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            await launched.close()
