"""Open a report page in real headless Chromium and screenshot it; say whether its charts drew.

Uses Debian's Chromium (``apt-get install chromium``, which scripts/setup.sh
does) through Playwright's Python package pointed at that executable, so
Playwright never downloads a browser. Network access is blocked for the page:
a self-contained report must render without it. Used by the report's test and
by hand::

    uv run python -m reporting.screenshot .local/reports/daily-report-2025-01-03.html out.png
"""

from __future__ import annotations

import argparse
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

CHROMIUM = os.environ.get("YTEMPIRE_CHROMIUM", "/usr/bin/chromium")
VIEWPORT = {"width": 1100, "height": 900}


@dataclass(frozen=True)
class PageCheck:
    """What the browser saw: the charts (``<img class=chart>``) and whether each decoded."""

    title: str
    charts: int
    charts_rendered: int  # complete, with a natural width above 0
    blocked_requests: list[str]  # any request beyond the page's own folder (there must be none)
    screenshot: Path


def chromium_path() -> str:
    """The Chromium executable, or a clear error naming how to install it."""
    if Path(CHROMIUM).exists() or shutil.which(CHROMIUM):
        return CHROMIUM
    raise FileNotFoundError(
        f"no Chromium at {CHROMIUM}: install Debian's package "
        "(`apt-get install -y --no-install-recommends chromium`, scripts/setup.sh does) "
        "or set YTEMPIRE_CHROMIUM to its path"
    )


def screenshot(page_path: Path, png_path: Path, *, full_page: bool = True) -> PageCheck:
    """Load ``page_path`` (file://, no network) in headless Chromium; write ``png_path``.

    The page may read files in its own folder (a site's ``static/``); any other
    request is blocked and listed.
    """
    from playwright.sync_api import sync_playwright

    blocked: list[str] = []
    url = page_path.resolve().as_uri()
    own_folder = page_path.resolve().parent.as_uri() + "/"
    png_path.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True)
        try:
            page = browser.new_page(viewport=VIEWPORT)  # type: ignore[arg-type]

            def guard(route: object) -> None:
                request_url = route.request.url  # type: ignore[attr-defined]
                if request_url.startswith((own_folder, "data:")):
                    route.continue_()  # type: ignore[attr-defined]
                else:
                    blocked.append(request_url)
                    route.abort()  # type: ignore[attr-defined]

            page.route("**/*", guard)
            page.goto(url, wait_until="load")
            counts = page.evaluate(
                """() => {
                    const charts = [...document.querySelectorAll('img.chart')];
                    return [charts.length,
                            charts.filter(i => i.complete && i.naturalWidth > 0).length];
                }"""
            )
            page.screenshot(path=str(png_path), full_page=full_page)
            title = page.title()
        finally:
            browser.close()
    return PageCheck(title, int(counts[0]), int(counts[1]), blocked, png_path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path, help="the report's HTML file")
    parser.add_argument("png", type=Path, help="where to write the screenshot")
    args = parser.parse_args()
    check = screenshot(args.page, args.png)
    print(
        f"{check.title}: {check.charts_rendered} of {check.charts} charts rendered, "
        f"{len(check.blocked_requests)} network requests blocked; screenshot {check.screenshot}"
    )
    if check.charts_rendered < check.charts or check.blocked_requests:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
