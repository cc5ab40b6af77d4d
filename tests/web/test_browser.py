"""The pages in a real browser: Playwright (PyPI) driving Debian's Chromium (/usr/bin/chromium).

At desktop and phone sizes: each page renders with no console error, loads nothing from outside
the app's origin, fits a 360 px screen, and its controls have labels; the dataset page's chart
draws marks, its form narrows the figures, and its CSV link downloads the CSV of what is shown.
Screenshots of every page at both sizes go to ``build/screenshots/`` (kept out of git) for a
reviewer to look at.

Without Chromium or Playwright the tests skip, saying why; with ``CI`` set they fail instead
(``.ci/run`` installs Debian's ``chromium``).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("OPENDATA_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
SIZES = {"desktop": (1280, 900), "phone": (360, 740)}
PAGES = {
    "home": "/",
    "search": "/search?q=kemiskinan",
    "dataset": "/datasets/ipm-kabkota",
    "dataset-bars": "/datasets/pengaduan-sp4n-lapor?chart=bar",
    "region": "/regions/6300",
    "embed": "/datasets/ipm-kabkota/embed",
}

pytestmark = pytest.mark.parametrize("demo_url", ["sqlite"], indirect=True)


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed (pip install -e '.[test]')"
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = _missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but the browser tests cannot run: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def root(demo_app):
    server = make_server("127.0.0.1", 0, demo_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()
    server.server_close()


class Visit:
    """A browser page that records console errors and every request it makes."""

    def __init__(self, browser, root: str, size: str, locale: str = "id-ID"):
        width, height = SIZES[size]
        self.context = browser.new_context(
            viewport={"width": width, "height": height},
            is_mobile=size == "phone",
            locale=locale,
            accept_downloads=True,
        )
        self.page = self.context.new_page()
        self.root = root
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))

    def open(self, path: str):
        response = self.page.goto(self.root + path)
        assert response.status == 200, path
        return self.page

    def close(self):
        self.context.close()


@pytest.fixture(params=list(SIZES))
def visit(request, browser, root):
    visit = Visit(browser, root, request.param)
    visit.size = request.param
    yield visit
    visit.close()


@pytest.mark.parametrize("name", list(PAGES))
def test_each_page_renders_at_both_sizes_from_its_own_origin_only(visit, name):
    page = visit.open(PAGES[name])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}-{visit.size}.png"), full_page=True)
    assert visit.errors == []
    assert visit.requests and all(url.startswith(visit.root) for url in visit.requests)
    assert page.locator("html").get_attribute("lang") == "id"
    assert page.locator("h1").count() == 1
    # fits the screen: nothing wider than the viewport but the scrolling tables and charts
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES[visit.size][0] + 1
    # every control a person can use has a label
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('input:not([type=hidden]), select')]"
        ".filter(e => e.labels.length === 0 && !e.getAttribute('aria-label')).length"
    )
    assert unlabelled == 0


def test_the_chart_draws_and_the_form_narrows_the_figures(visit):
    page = visit.open("/datasets/ipm-kabkota")
    chart = page.locator("svg.chart")
    assert chart.is_visible()
    assert page.locator("svg.chart circle.mark").count() == 14 * 4  # 14 regions, 4 years
    for box in page.locator("fieldset.regions input[type=checkbox]").all():
        if box.is_checked():
            box.uncheck()
    page.locator("fieldset.regions input[value='6371']").check()
    page.get_by_role("button", name="Tampilkan").click()
    page.wait_for_load_state()
    assert "region=6371" in page.url
    assert page.locator("table.figures tbody tr").count() == 1
    assert page.locator("svg.chart circle.mark").count() == 4
    assert visit.errors == []


def test_the_csv_link_downloads_what_is_shown(visit):
    page = visit.open("/datasets/ipm-kabkota?region=6371,6372")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV", exact=True).click()
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {row["region_code"] for row in rows} == {"6371", "6372"}
    assert len(rows) == page.locator("svg.chart circle.mark").count() == 8
    assert download.value.suggested_filename.endswith(".csv")


def test_the_keyboard_reaches_the_content_first(visit):
    page = visit.open("/datasets/ipm-kabkota")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"


def test_english_is_a_click_away(browser, root):
    visit = Visit(browser, root, "desktop")
    try:
        page = visit.open("/datasets/ipm-kabkota")
        page.get_by_role("link", name="English").click()
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "en"
        assert "Human Development Index" in page.locator("h1").inner_text()
        assert visit.errors == []
    finally:
        visit.close()
