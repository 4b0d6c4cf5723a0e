"""GraphiQL in a real browser: Debian's chromium, headless, driven by Playwright, against a
real gateway (uvicorn, the demo data) with every request to another host aborted. The
page loads offline, the one-click URL's token runs a query, the headers survive a reload,
and the docs and the explorer follow the credential without a "Re-fetch schema" click.

Chromium comes from scripts/chromium (run by scripts/test). With CI=true these tests must
run; elsewhere they skip when /usr/bin/chromium is absent. Screenshots go to
tests/e2e/screenshots/ (ignored by git), printed by the test."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Locator,
    Page,
    Request,
    Response,
    Route,
    expect,
)

from tests.e2e.browser import chromium, require_chromium
from tests.e2e.demo_site import DemoSite, demo_site

SCREENSHOTS = Path(__file__).parent / "screenshots"
PAYMENTS_QUERY = "{ payments(first: 3) { totalCount } }"


@pytest.fixture(scope="module", autouse=True)
def chromium_present() -> None:
    require_chromium()


@pytest.fixture(scope="module")
async def site(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[DemoSite]:
    async with demo_site("sqlite", tmp_path_factory.mktemp("graphiql"), payments=30) as running:
        yield running


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


@dataclass
class OfflinePage:
    """A page in a fresh browser context (empty storage) that may reach only the gateway;
    what it tried to fetch elsewhere, and what the console said."""

    page: Page
    context: BrowserContext
    blocked: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    async def open_docs(self) -> None:
        await self.page.get_by_label("Show Documentation Explorer").click()

    def docs(self) -> Locator:
        return self.page.locator(".graphiql-doc-explorer")

    async def run_query(self) -> None:
        await self.page.get_by_label("Execute query (Ctrl-Enter)").click()

    def result(self) -> Locator:
        return self.page.locator(".graphiql-response")

    def headers_editor(self) -> Locator:
        return self.page.locator(".graphiql-editor-tool .graphiql-editor").last


@pytest.fixture
async def offline(site: DemoSite, browser: Browser) -> AsyncIterator[OfflinePage]:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    opened = OfflinePage(page, context)

    async def only_the_gateway(route: Route, request: Request) -> None:
        if request.url.startswith(f"{site.url}/"):
            await route.continue_()
        else:
            opened.blocked.append(request.url)
            await route.abort()

    def noted(message: ConsoleMessage) -> None:
        opened.console.append(f"{message.type}: {message.text}")

    await context.route("**/*", only_the_gateway)
    page.on("console", noted)
    page.on("pageerror", lambda error: opened.console.append(f"pageerror: {error}"))
    try:
        yield opened
    finally:
        await context.close()
    # Nothing but the gateway was asked for, and the CSP refused nothing the page needs.
    assert opened.blocked == []
    assert [line for line in opened.console if "Content Security Policy" in line] == []
    assert [line for line in opened.console if line.startswith("pageerror")] == []


def is_introspection(response: Response) -> bool:
    return response.request.method == "POST" and "IntrospectionQuery" in (
        response.request.post_data or ""
    )


def screenshot(page_name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{page_name}.png"
    print(f"\nscreenshot: {path}")
    return path


async def test_the_one_click_url_runs_a_query_and_survives_a_reload(
    site: DemoSite, offline: OfflinePage, capsys: pytest.CaptureFixture[str]
) -> None:
    # given the URL `paygraph serve --demo` prints: a signed token in the headers
    headers = json.dumps({"Authorization": f"Bearer {site.token()}"})
    page = offline.page
    expected = await site.scalar(
        "SELECT count(*) FROM payment WHERE tenant_id = :t", t=site.tenant_id
    )

    # when it is opened and the query it carries is run
    async with page.expect_response(is_introspection) as introspected:
        await page.goto(f"{site.url}/graphql?headers={quote(headers)}&q={quote(PAYMENTS_QUERY)}")
    assert (await introspected.value).status == 200
    await offline.run_query()

    # then the result is there, and the token has left the address bar
    await expect(offline.result()).to_contain_text(f'"totalCount": {expected}')
    assert page.url == f"{site.url}/graphql"
    with capsys.disabled():
        await page.screenshot(path=screenshot("graphiql-offline-result"))

    # when the page is reloaded
    async with page.expect_response(is_introspection) as introspected:
        await page.reload()

    # then the headers are still there, and the schema came with them: the docs show the
    # root types with no "Re-fetch schema" click
    assert (await introspected.value).status == 200
    await expect(offline.headers_editor()).to_contain_text("Bearer")
    await offline.open_docs()
    await expect(offline.docs()).to_contain_text("Query")
    await expect(offline.docs()).to_contain_text("Mutation")
    with capsys.disabled():
        await page.screenshot(path=screenshot("graphiql-offline-docs-after-reload"))
    # and so does the explorer, which lists the root fields to tick
    await page.get_by_label("Show GraphiQL Explorer").click()
    await expect(page.locator(".graphiql-plugin")).to_contain_text("partnerPayments")


async def test_pasting_a_token_fetches_the_schema_again(
    site: DemoSite, offline: OfflinePage
) -> None:
    # given the page opened with no credential: its introspection is refused
    page = offline.page
    async with page.expect_response(is_introspection) as introspected:
        await page.goto(f"{site.url}/graphql")
    assert (await introspected.value).status == 401
    await offline.open_docs()
    await expect(offline.docs()).not_to_contain_text("Mutation")

    # when a token is pasted into the Headers tab
    async with page.expect_response(is_introspection) as introspected:
        await offline.headers_editor().click()
        await page.keyboard.insert_text(json.dumps({"Authorization": f"Bearer {site.token()}"}))

    # then GraphiQL introspects again with it, and the docs fill in
    assert (await introspected.value).status == 200
    await expect(offline.docs()).to_contain_text("Mutation")
    await offline.run_query()  # the welcome query: the viewer
    await expect(offline.result()).to_contain_text('"credential": "JWT"')


async def test_the_fragment_form_keeps_the_token_from_the_server(
    site: DemoSite, offline: OfflinePage
) -> None:
    # given the one-click URL with its headers after `#`, which the browser never sends
    headers = json.dumps({"Authorization": f"Bearer {site.token()}"})
    page = offline.page
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))

    # when it is opened
    async with page.expect_response(is_introspection) as introspected:
        await page.goto(f"{site.url}/graphql#headers={quote(headers)}")

    # then the schema came with the token, and no URL the server saw carried it
    assert (await introspected.value).status == 200
    await offline.run_query()
    await expect(offline.result()).to_contain_text('"credential": "JWT"')
    assert asked and not [url for url in asked if "Bearer" in url or "headers=" in url]
    assert page.url == f"{site.url}/graphql"
