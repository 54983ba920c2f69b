"""The GX Data Docs site works offline: no page loads a script, style or font from the network.

A real checkpoint run builds the site (index, a validation page, an expectation
suite page) into the session's own Data Docs folder; every generated page is
parsed (stdlib ``html.parser``) for its ``<script src>``, ``<link href>`` and
CSS ``url(...)``/``@import`` (inline and in the stylesheets it links), and each
must be a file of the site. Then headless Chromium opens the index from
``file://`` with every request outside the site blocked, and the index's
table of validations is drawn (bootstrap-table ran).
"""

from __future__ import annotations

import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from expectations.checkpoints import ValidationRun, run_checkpoint
from expectations.offline_docs import CDN_FILES, assets_dir
from reporting.screenshot import chromium_path
from tests.conftest import OUTPUTS
from ytempire.settings import Settings

pytestmark = pytest.mark.services

DAY = date(2025, 1, 3)
_CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")


class _Loads(HTMLParser):
    """What a page loads: script sources, linked stylesheets/fonts/icons, inline CSS."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline_css: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.urls.append(str(values["src"]))
        elif tag == "link" and values.get("href"):
            self.urls.append(str(values["href"]))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.inline_css.append(data)


def _css_urls(css: str) -> list[str]:
    return [a or b for a, b in _CSS_URL.findall(css) if not (a or b).startswith("data:")]


def _remote(url: str) -> bool:
    return url.startswith("//") or urlsplit(url).scheme in ("http", "https")


@pytest.fixture(scope="module")
def site(test_database: str) -> ValidationRun:
    if not (assets_dir() / "node_modules").is_dir():
        pytest.fail(
            f"the pinned Data Docs assets are not installed in {assets_dir()}: "
            "run scripts/setup.sh (npm ci from expectations/data_docs_assets/)"
        )
    return run_checkpoint("raw", DAY, suites=["channel_data_quality"])


def test_no_generated_page_loads_a_script_style_or_font_from_the_network(site: ValidationRun):
    assert site.docs_index is not None
    assert site.docs_index.is_relative_to(OUTPUTS)
    assert site.docs_offline
    root = site.docs_index.parent
    pages = sorted(root.rglob("*.html"))
    assert len(pages) >= 3  # index, the suite's page, the validation's page
    for page in pages:
        loads = _Loads()
        loads.feed(page.read_text(encoding="utf-8"))
        urls = loads.urls + [u for css in loads.inline_css for u in _css_urls(css)]
        assert [u for u in urls if _remote(u)] == [], page
        for url in urls:
            target = (page.parent / urlsplit(url).path).resolve()
            assert target.is_file(), f"{page.relative_to(root)} loads {url}: not in the site"
            if target.suffix == ".css":
                for inner in _css_urls(target.read_text(encoding="utf-8")):
                    assert not _remote(inner), f"{target.name} loads {inner}"
                    inner_file = (target.parent / urlsplit(inner).path).resolve()
                    assert inner_file.is_file(), f"{target.name} loads {inner}: missing"
    index = site.docs_index.read_text(encoding="utf-8")
    assert not any(url in index for url in CDN_FILES)


def test_the_index_draws_its_table_in_chromium_with_the_network_blocked(
    site: ValidationRun, settings: Settings, tmp_path: Path
):
    from playwright.sync_api import sync_playwright

    assert site.docs_index is not None
    root = site.docs_index.parent.resolve().as_uri() + "/"
    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        try:
            page = browser.new_page()

            def guard(route) -> None:  # type: ignore[no-untyped-def]
                if route.request.url.startswith((root, "data:")):
                    route.continue_()
                else:
                    blocked.append(route.request.url)
                    route.abort()

            page.route("**/*", guard)
            page.goto(site.docs_index.resolve().as_uri(), wait_until="load")
            # bootstrap-table (a local script) turns the index's table into its widget
            page.wait_for_selector(".bootstrap-table", state="attached")
            rows = page.locator("table tbody tr").count()
            page.screenshot(path=str(tmp_path / "data-docs-index.png"), full_page=True)
        finally:
            browser.close()
    assert blocked == []
    assert rows >= 1
