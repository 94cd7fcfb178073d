"""End to end in a real headless Chromium (Debian's package, driven by Playwright): `ropsfeed serve`
as a real uvicorn server on a free loopback port, over the crawled demo database.

Skipped, with the reason, only where Chromium or Playwright's Python package is missing
(`.ci/run` installs Chromium with apt-get).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = os.environ.get("ROPSFEED_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.network


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"Chromium not found at {CHROMIUM} (install Debian's `chromium` package; .ci/run does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        pytest.skip(f"Playwright's Python package is missing ({exc}); `make install` installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


def _serve(database: str) -> Iterator[str]:
    """`ropsfeed serve` in its own process, as an operator starts it; yields its URL."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aggregator.cli", "serve", "--port", str(port), "--db", database],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    pytest.fail(f"ropsfeed serve did not start: {process.communicate()[0]}")
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def demo_server(demo_database: str) -> Iterator[str]:
    yield from _serve(demo_database)


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A fresh page that records console errors (a CSP violation is one) and dialogs."""
    context = chromium.new_context(locale="pl-PL")
    page = context.new_page()
    errors: list[str] = []
    page.errors = errors  # type: ignore[attr-defined]
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("dialog", lambda dialog: (errors.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    yield page
    context.close()


def test_load_filter_search_and_open_a_story(demo_server: str, page: Page) -> None:
    page.goto(demo_server)
    assert page.title().startswith("Wiadomości")
    stories = page.locator("li.story")
    assert stories.count() == 20
    assert "strona 1 z" in page.locator("p.summary").inner_text()
    border = page.eval_on_selector("header.site", "e => getComputedStyle(e).borderBottomStyle")
    assert border == "solid", "the stylesheet loads under the CSP"

    page.select_option("select[name=voivodeship]", "podlaskie")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**voivodeship=podlaskie**")
    metas = page.locator("li.story p.meta").all_inner_texts()
    assert metas and all("woj. podlaskie" in meta for meta in metas)
    assert page.locator("select[name=voivodeship]").input_value() == "podlaskie", "the form keeps the filter"

    page.goto(demo_server)
    page.fill("input[name=q]", "rozwoju EKONOMII spolecznej")
    page.press("input[name=q]", "Enter")
    page.wait_for_url("**q=rozwoju**")
    found = page.locator("li.story h2 a").all_inner_texts()
    assert found, "folded search finds the accented words"
    assert "Znaleziono" in page.locator("p.summary").inner_text()

    title = found[0]
    page.locator("li.story h2 a").first.click()
    page.wait_for_url("**/story/**")
    assert page.locator("h1").inner_text() == title
    source_links = page.locator("section.sources > ul > li > a")
    assert source_links.count() >= 1
    assert all(href.startswith("http") and "127.0.0.1" not in href
               for href in source_links.evaluate_all("links => links.map(a => a.href)"))  # fmt: skip
    page.click("text=← Wszystkie wiadomości")
    page.wait_for_url(demo_server)
    assert page.errors == []


def test_paging_and_feed_autodiscovery(demo_server: str, page: Page) -> None:
    page.goto(demo_server)
    story_links = "links => links.map(a => a.getAttribute('href'))"
    first = page.locator("li.story h2 a").evaluate_all(story_links)
    page.click("a[rel=next]")
    page.wait_for_url("**page=2**")
    second = page.locator("li.story h2 a").evaluate_all(story_links)
    assert second and not set(first) & set(second)
    feeds = page.eval_on_selector_all(
        "link[rel=alternate]", "links => links.map(l => [l.type, new URL(l.href).pathname])"
    )
    assert feeds == [["application/atom+xml", "/feed.atom"], ["application/rss+xml", "/feed.rss"],
                     ["application/feed+json", "/feed.json"]]  # fmt: skip
    response = page.request.get(demo_server + "feed.atom?voivodeship=podlaskie")
    assert response.ok and "<feed" in response.text()
    assert page.errors == []


def test_hostile_html_does_nothing_in_the_browser(web_database: str, chromium: Browser, page: Page) -> None:
    for url in _serve(web_database):
        page.goto(url + "story/story-xss")
        assert page.title().startswith("Konkurs ofert <b>2024</b>"), "the title shows as text, the script never ran"
        assert page.locator(".content script, .content iframe, .content style").count() == 0
        hrefs = page.locator(".content a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert hrefs == [None, "https://mcps.com.pl/regulamin.pdf"], "the javascript: link lost its href"
        handlers = page.locator(".content [onerror], .content [onclick]").count()
        assert handlers == 0
        assert not [e for e in page.errors if "dialog" in e or "hacked" in e]


def test_keyboard_focus_is_plain_to_see(demo_server: str, page: Page) -> None:
    """Tabbing through the page, each focused link and field wears a 3px ring in the site's blue:
    the browser's own was a 1px dark line, easy to lose (WCAG 2.4.7). The menu marks the page the
    reader is on, and a list of one page has no empty "Strony" navigation."""
    page.goto(demo_server + "?voivodeship=podlaskie")
    rings = []
    for _ in range(8):
        page.keyboard.press("Tab")
        rings.append(
            page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
            return [document.activeElement.tagName, s.outlineStyle, s.outlineWidth, s.outlineColor]; }""")
        )
    assert {tag for tag, *_ in rings} >= {"A", "INPUT", "SELECT", "BUTTON"}
    assert all(ring[1:] == ["solid", "3px", "rgb(42, 93, 143)"] for ring in rings), rings
    assert page.locator("header.site nav a[aria-current=page]").all_inner_texts() == ["Wiadomości"]
    assert page.locator("nav.pager").count() == 0 and page.locator("li.story").count() < 20
    page.goto(demo_server)
    assert page.locator("nav.pager a").all_inner_texts() == ["Starsze →"]
    search = page.locator("input[name=q]").bounding_box()
    assert search and search["width"] >= 250, "the search box shows its placeholder whole"
    assert page.errors == []
