"""The documentation stands alone: it names the API families in words (no user has the
source documents "000"-"003"), every link between README.md and docs/ lands on a file
and a heading, every page of docs/ is reachable from the README, and the README's
contents list is its headings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]

SOURCE_DOCUMENT = re.compile(r"\bdocuments? 00[0-3]\b", re.IGNORECASE)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
CODE_SPAN = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")


def _prose(text: str) -> str:
    """The text without code blocks and code spans, where brackets are not links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def _headings(text: str, level: str = "#+") -> list[str]:
    return re.findall(rf"^{level} (.+?)\s*$", FENCE.sub("", text), flags=re.MULTILINE)


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _links(page: Path) -> list[str]:
    return [
        target
        for target in LINK.findall(_prose(page.read_text()))
        if not re.match(r"[a-z]+:", target)
    ]


def _name(page: Path) -> str:
    return str(page.relative_to(ROOT))


def test_the_docs_are_a_folder_of_pages() -> None:
    assert len(DOCS) >= 9, [_name(page) for page in DOCS]


@pytest.mark.parametrize("path", ["schema.graphql", *map(_name, PAGES)])
def test_no_page_cites_the_source_documents_by_number(path: str) -> None:
    text = (ROOT / path).read_text()
    cited = [line for line in text.splitlines() if SOURCE_DOCUMENT.search(line)]
    assert not cited, cited


@pytest.mark.parametrize("page", PAGES, ids=_name)
def test_every_local_link_lands_on_a_file_and_a_heading(page: Path) -> None:
    for target in _links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        assert file.is_file(), f"{_name(page)}: {target} is no file"
        if anchor:
            anchors = {_anchor(heading) for heading in _headings(file.read_text())}
            assert anchor in anchors, f"{_name(page)}: {target} names no heading"


def test_the_readme_links_every_page_of_the_docs() -> None:
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in _links(README)}
    assert [_name(page) for page in DOCS if page.resolve() not in linked] == []


def test_the_readme_contents_list_is_its_headings() -> None:
    text = README.read_text()
    sections = [heading for heading in _headings(text, "##") if heading != "Contents"]
    listing = text.split("## Contents\n", 1)[1].split("\n## ", 1)[0]
    entries = re.findall(r"^- \[(.+)\]\(#([^)]+)\)$", listing, flags=re.MULTILINE)
    assert entries == [(heading, _anchor(heading)) for heading in sections]
