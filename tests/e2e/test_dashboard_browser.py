"""The built dashboard in a real browser: Debian's chromium, headless, driven by Playwright,
against two `paygraph serve --dashboard` processes over one PostgreSQL database with the
demo data. One context signs in with a token, pages, filters, opens a payment, approves
one document, rejects another with a reason and takes the commission action then offered,
through the first instance; a second context, on the second instance, sees the payment's
status badge change live after each (paymentChanged, fanned out by LISTEN/NOTIFY).

PostgreSQL only: the in-process broker SQLite uses cannot reach another process. Chromium
and the build are required with CI=true and skipped elsewhere, as in
test_graphiql_browser. Screenshots go to tests/e2e/screenshots/dashboard-*.png."""

from __future__ import annotations

import asyncio
import re
import shutil
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import text

from db.demo import load_demo
from db.engine import create_engine
from db.migrate import upgrade
from domain.permissions import ALL_PERMISSIONS
from gateway.auth import mint_token
from gateway.settings import Settings
from gateway.storage import LocalDiskStorage
from tests.databases import (
    create_postgres_database,
    drop_postgres_database,
    in_ci,
    postgres_admin_url,
)
from tests.e2e.browser import chromium, require_chromium
from tests.e2e.dashboard_build import building_alone, fresh_build
from tests.e2e.server import TEST_JWT_SECRET, RunningServer, running_server

# How long a live delivery may take on a loaded machine (ms); Playwright waits 5 s.
LIVE = 15_000
SCREENSHOTS = Path(__file__).parent / "screenshots"


def required(reason: str) -> NoReturn:
    if in_ci():
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of a fresh build, served while another module may rebuild dashboard/dist."""
    require_chromium()
    copy = tmp_path_factory.mktemp("dashboard") / "dist"
    with building_alone():
        shutil.copytree(fresh_build(), copy)
    return copy


@pytest.fixture(scope="module")
async def database(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[str, Path]]:
    """A fresh PostgreSQL database with the demo loaded, and the demo documents' folder."""
    admin_url = postgres_admin_url()
    if admin_url is None:
        required("the dashboard's browser test needs PAYGRAPH_TEST_POSTGRES_URL")
    url = await create_postgres_database(admin_url)
    documents = tmp_path_factory.mktemp("dashboard") / "documents"
    engine = create_engine(url)
    try:
        await upgrade(engine)
        await load_demo(engine, payments=60, seed=17, storage=LocalDiskStorage(documents))
        yield url, documents
    finally:
        await engine.dispose()
        await drop_postgres_database(admin_url, url)


@pytest.fixture(scope="module")
def instances(built: Path, database: tuple[str, Path]) -> Iterator[list[RunningServer]]:
    url, documents = database
    env = {
        "PAYGRAPH_DASHBOARD_DIR": str(built),
        "PAYGRAPH_STORAGE_DIR": str(documents),
        "PAYGRAPH_SUBSCRIPTIONS_BROKER": "postgres",
    }
    with (
        running_server(url, "--dashboard", env=env) as first,
        running_server(url, "--dashboard", env=env) as second,
    ):
        yield [first, second]


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def reviewable_payment(url: str) -> tuple[int, str]:
    """A payment of the demo's awaiting review of two documents: its id and reference."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            row = (
                await connection.execute(
                    text(
                        "SELECT p.id, p.reference FROM payment p"
                        " JOIN payment_document d ON d.payment_id = p.id"
                        " WHERE d.status = 'pending' AND p.tenant_id = 1"
                        " AND p.status IN ('payment_requested', 'under_review')"
                        " GROUP BY p.id, p.reference HAVING count(*) >= 2"
                        " ORDER BY p.id LIMIT 1"
                    )
                )
            ).one()
    finally:
        await engine.dispose()
    return int(row.id), str(row.reference)


def screenshot(name: str) -> str:
    SCREENSHOTS.mkdir(exist_ok=True)
    return str(SCREENSHOTS / f"dashboard-{name}.png")


async def fresh_page(browser: Browser) -> Page:
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    return await context.new_page()


async def signed_in(page: Page, server: RunningServer, token: str, name: str) -> Page:
    await page.goto(f"{server.url}/dashboard/")
    await page.get_by_test_id("login-token").fill(token)
    if name:
        await page.screenshot(path=screenshot(name))
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("payments-table")).to_be_visible()
    return page


def subscriptions_sent(page: Page) -> Callable[[str], Awaitable[None]]:
    """Waits for the page to send a `subscribe` message carrying a text: until it has, a
    change made elsewhere could come before the subscription and never be delivered."""
    sent: list[str] = []
    arrived = asyncio.Condition()

    async def noted(payload: str | bytes) -> None:
        async with arrived:
            sent.append(payload if isinstance(payload, str) else payload.decode())
            arrived.notify_all()

    page.on("websocket", lambda socket: socket.on("framesent", noted))

    async def carrying(needle: str) -> None:
        def found() -> bool:
            return any('"subscribe"' in frame and needle in frame for frame in sent)

        async with arrived:
            await arrived.wait_for(found)

    return carrying


async def filtered_to(page: Page, reference: str) -> None:
    await page.get_by_test_id("filter-reference").fill(reference)
    await page.get_by_test_id("filter-apply").click()
    await expect(page.get_by_test_id("payment-row")).to_have_count(1)


async def test_review_through_one_instance_shows_live_in_a_browser_on_the_other(
    instances: list[RunningServer],
    database: tuple[str, Path],
    browser: Browser,
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    first, second = instances
    payment_id, reference = await reviewable_payment(database[0])
    token = mint_token(
        Settings(jwt_secret=TEST_JWT_SECRET), tenant_id=1, user_id=1, permissions=ALL_PERMISSIONS
    )

    # given a reviewer on the first instance, signed in with a token
    reviewer = await signed_in(await fresh_page(browser), first, token, "login")
    # who pages forward through the list
    first_row = reviewer.get_by_test_id("payment-row").first
    first_on_page_one = await first_row.get_attribute("data-payment-id")
    await reviewer.get_by_test_id("page-next").click()
    await expect(first_row).not_to_have_attribute("data-payment-id", first_on_page_one or "")
    await expect(reviewer.get_by_test_id("page-previous")).to_be_enabled()
    await reviewer.screenshot(path=screenshot("payments"), full_page=True)
    # and a watcher on the second instance, whose list shows the same payment, live
    watcher = await fresh_page(browser)
    subscribed = subscriptions_sent(watcher)
    await signed_in(watcher, second, token, "")
    await filtered_to(watcher, reference)
    row = watcher.get_by_test_id("payment-row")
    badge = row.get_by_test_id("status-badge")
    await expect(badge).to_have_attribute(
        "data-status", re.compile("PAYMENT_REQUESTED|UNDER_REVIEW")
    )
    await expect(badge).not_to_have_attribute("title", "updated live")
    global_id = await row.get_attribute("data-payment-id")
    await asyncio.wait_for(subscribed(f'"in":["{global_id}"]'), timeout=LIVE / 1000)

    # when the reviewer filters to it, opens it, approves one document and rejects one
    await filtered_to(reviewer, reference)
    await reviewer.get_by_test_id("payment-link").click()
    heading = reviewer.get_by_role("heading", name=f"Payment {payment_id}")
    await expect(heading).to_be_visible()
    documents = reviewer.get_by_test_id("document-row")
    await documents.nth(0).get_by_test_id("document-approve").click()
    await expect(documents.nth(0).get_by_test_id("status-badge")).to_have_attribute(
        "data-status", "APPROVED"
    )
    await documents.nth(1).get_by_test_id("document-reject-reason").fill("Illegible scan")
    await documents.nth(1).get_by_test_id("document-reject").click()
    await expect(documents.nth(1).get_by_test_id("status-badge")).to_have_attribute(
        "data-status", "REJECTED"
    )
    await expect(documents.nth(1)).to_contain_text("Illegible scan")
    await expect(reviewer.get_by_test_id("audit-list")).to_contain_text("Illegible scan")
    await expect(heading.get_by_test_id("status-badge")).to_have_attribute(
        "data-status", "DOCUMENTS_REJECTED"
    )

    # then the watcher's badge, fed over its websocket by the other instance, changes
    await expect(badge).to_have_attribute("data-status", "DOCUMENTS_REJECTED", timeout=LIVE)
    await expect(badge).to_have_attribute("title", "updated live")

    # and so it does again when the reviewer takes the commission action now offered
    await reviewer.get_by_test_id("transition-comments").fill("New scan received")
    await reviewer.get_by_test_id("transition-SEND_TO_INTERNAL_REVIEW").click()
    await expect(heading.get_by_test_id("status-badge")).to_have_attribute(
        "data-status", "UNDER_REVIEW"
    )
    await expect(reviewer.get_by_test_id("audit-list")).to_contain_text("New scan received")
    await reviewer.screenshot(path=screenshot("payment-detail"), full_page=True)
    await expect(badge).to_have_attribute("data-status", "UNDER_REVIEW", timeout=LIVE)

    # and the payment's partner opens on the portfolio, with its KPI tiles and chart
    await reviewer.get_by_test_id("payment-summary").get_by_role("link").click()
    await expect(reviewer.get_by_test_id("kpi-tiles")).to_be_visible()
    await expect(reviewer.get_by_test_id("volume-chart")).to_be_visible()
    await reviewer.screenshot(path=screenshot("portfolio"), full_page=True)

    with capsys.disabled():
        print(f"\nscreenshots: {SCREENSHOTS}/dashboard-*.png ({time.monotonic() - started:.1f} s)")
