"""The web catalog's pages over the bundled catalog, read as a person reads them (HTML), on
both stores: what is shown is what the store says, digit for digit; downloads give exactly what
is shown; bad input gets a page that says what to change.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest

from opendata.web.i18n import number

ATOM = "{http://www.w3.org/2005/Atom}"


class Page(HTMLParser):
    """What a page holds: its links, sources, table cells, chart marks and headings."""

    def __init__(self, html: str):
        super().__init__()
        self.links: list[tuple[str, str]] = []  # (href, text)
        self.sources: list[str] = []  # every URL the page loads by itself
        self.tables: list[list[list[str]]] = []
        self.marks = 0
        self.lang = None
        self._href = None
        self._text: list[str] = []
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.lang = attrs.get("lang")
        if tag == "a":
            self._href, self._text = attrs.get("href"), []
        if tag in ("script", "img", "iframe") and attrs.get("src"):
            self.sources.append(attrs["src"])
        if tag == "link" and attrs.get("rel") in ("stylesheet", "icon"):
            self.sources.append(attrs["href"])
        if tag == "table":
            self.tables.append([])
        if tag == "tr" and self.tables:
            self.tables[-1].append([])
        if tag in ("td", "th") and self.tables:
            self._cell = []
        if tag in ("circle", "rect") and "mark" in attrs.get("class", ""):
            self.marks += 1

    def handle_endtag(self, tag):
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None
        if tag in ("td", "th") and self._cell is not None and self.tables:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._href is not None:
            self._text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def link(self, text: str) -> str:
        return next(href for href, label in self.links if label == text)


def page(web, url: str, lang: str = "id", status: int = 200) -> Page:
    response = web.get(url, headers={"Accept-Language": lang, "Accept": "text/html"})
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return Page(response.get_data(as_text=True))


def test_home_lists_every_dataset_by_topic_and_kalsels_regions(web):
    datasets = web.get("/api/v1/datasets").json["data"]
    home = page(web, "/")
    assert home.lang == "id"
    linked = {href for href, _ in home.links}
    for dataset in datasets:
        assert f"/datasets/{dataset['id']}" in linked
    regions = [href for href in linked if href.startswith("/regions/")]
    assert "/regions/6300" in regions and "/regions/6371" in regions
    assert len(regions) == 14  # Kalsel and its 13 regencies and cities
    english = web.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in english and "Open Statistics of South Kalimantan" in english
    assert 'href="/datasets/ipm-kabkota?lang=en"' in english  # links keep the language


def _shown(table: list[list[str]]) -> dict[tuple[str, str], str]:
    """The table's figures: (region name, period) -> the text shown."""
    header, *rows = table
    return {
        (row[0], period): cell
        for row in rows
        for period, cell in zip(header[1:], row[1:], strict=True)
        if cell
    }


def test_the_dataset_page_shows_the_stores_figures_digit_for_digit(web):
    shown = page(web, "/datasets/ipm-kabkota")
    figures = _shown(shown.tables[0])
    api = web.get("/api/v1/datasets/ipm-kabkota/observations?region=6300&limit=100").json
    for observation in api["data"]:
        value = str(observation["value"])
        expected = number(value, "id")
        assert figures[("Provinsi Kalimantan Selatan", observation["period"])] == expected
    assert figures[("Provinsi Kalimantan Selatan", "2022")] == "74,0"  # not 74 nor 74,00
    assert len({name for name, _ in figures}) == 14  # Kalsel and its regencies by default
    assert shown.marks == len(figures)  # one mark a figure on the chart
    english = page(web, "/datasets/ipm-kabkota?lang=en")
    assert _shown(english.tables[0])[("Provinsi Kalimantan Selatan", "2022")] == "74.0"


def _csv_rows(web, href: str) -> list[dict]:
    response = web.get(href)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?region=6371,6372&chart=bar",
        "?region=6300&dim.cakupan=pemprov_kalimantan_selatan_lingkup_provinsi_lapor_paman&dim.status=aduan_ditindaklanjuti",
        "?region=6300&kind=monthly",  # one frequency of several: the download has it alone
        "?region=6300&kind=semiannual",
    ],
)
def test_a_download_link_gives_exactly_what_is_shown(web, query):
    dataset = "pengaduan-sp4n-lapor" if "cakupan" in query or "kind" in query else "ipm-kabkota"
    shown = page(web, f"/datasets/{dataset}{query}")
    figures = _shown(shown.tables[0])
    rows = _csv_rows(web, shown.link("CSV"))
    downloaded = {(r["region_name"], r["period"]): number(r["value"], "id") for r in rows}
    flags = {(r["region_name"], r["period"]): r["flag"] for r in rows}
    for key, text in downloaded.items():
        expected = f"{text} ({flags[key]})" if flags[key] else text
        assert figures[key] == expected
    assert len(downloaded) == len(figures)


def test_every_format_of_what_is_shown_downloads(web):
    shown = page(web, "/datasets/pengaduan-sp4n-lapor?region=6300", lang="en")
    hrefs = [href for href, _ in shown.links if href.startswith("/api/v1/")]
    wanted = {"observations.csv", "observations.xlsx", "observations.jsonstat", "datapackage.json"}
    assert wanted <= {urlsplit(h).path.rsplit("/", 1)[-1] for h in hrefs}
    for href in hrefs:
        query = dict(parse_qsl(urlsplit(href).query))
        if urlsplit(href).path.endswith("/observations") and "format" not in query:
            continue  # the JSON page of the API snippet
        response = web.get(href)
        assert response.status_code == 200, href
        if "region" in query:
            assert query["region"] == "6300"


def test_the_reader_chooses_regions_breakdowns_and_the_chart(web):
    bars = page(web, "/datasets/ipm-kabkota?region=6371,6372&chart=bar&period=2023")
    assert bars.marks == 2  # one bar a region
    assert len(bars.tables[0]) == 3  # header and the two regions
    lapor = page(web, "/datasets/pengaduan-sp4n-lapor?region=6300&dim.status=aduan_ditindaklanjuti")
    received = page(web, "/datasets/pengaduan-sp4n-lapor?region=6300&dim.status=aduan_diterima")
    assert _shown(lapor.tables[0]) != _shown(received.tables[0])


@pytest.mark.parametrize(
    ("url", "status", "says"),
    [
        ("/datasets/ipm-kabkota?region=9x", 400, "region"),
        ("/datasets/ipm-kabkota?dim.nope=1", 400, "nope"),
        ("/datasets/ipm-kabkota?chart=pie", 400, "chart"),
        ("/datasets/no-such-dataset", 404, "no-such-dataset"),
        ("/regions/9999", 404, "9999"),
        ("/no/such/page", 404, ""),
    ],
)
def test_bad_input_gets_a_page_saying_what_to_change(web, url, status, says):
    response = web.get(url, headers={"Accept": "text/html"})
    assert response.status_code == status
    assert response.mimetype == "text/html"
    assert says in response.get_data(as_text=True)
    # the API keeps its problems
    api = web.get("/api/v1/datasets/no-such-dataset", headers={"Accept": "text/html"})
    assert api.mimetype == "application/problem+json"


def test_the_region_page_shows_each_datasets_latest_figure(web):
    region = page(web, "/regions/6371")
    rows = {row[0]: row for row in region.tables[0][1:]}
    api = web.get("/api/v1/datasets/ipm-kabkota/observations?region=6371&limit=100").json["data"]
    latest = max(api, key=lambda o: o["period"])
    title = web.get("/api/v1/datasets/ipm-kabkota").json["title"]["id"]
    row = next(row for name, row in rows.items() if name.startswith(title))
    assert row[1] == latest["period"]
    assert row[2].startswith(number(str(latest["value"]), "id"))
    hrefs = {href for href, _ in region.links}
    assert "/regions/6300" in hrefs  # its parent
    assert "/datasets/ipm-kabkota?region=6371" in hrefs  # the dataset, filtered to it
    assert page(web, "/regions/63.71").tables[0] == region.tables[0]  # Kemendagri code
    kalsel = page(web, "/regions/6300")
    assert {f"/regions/{code}" for code in ("6301", "6311", "6371", "6372")} <= {
        href for href, _ in kalsel.links
    }


@pytest.mark.parametrize("dataset", ["target-ipm-kalsel", "ipm-kabkota"])
def test_targets_show_their_achievement_beside_the_figures(web, dataset):
    """A set of plan targets, and the dataset whose figures they target, both show the
    achievement the API computes, per region."""
    api = web.get("/api/v1/datasets/target-ipm-kalsel/achievement").json["data"]
    shown = page(web, f"/datasets/{dataset}")
    table = next(t for t in shown.tables if t[0][-1] == "Capaian")
    assert len(table) - 1 == len(api)
    for row in api:
        name, period = row["region"]["name"], row["period"]
        cells = next(c for c in table[1:] if c[0].startswith(name) and c[1] == period)
        assert cells[3].startswith(number(str(row["actual"]), "id"))
        assert cells[4].startswith(number(str(row["achievement"]), "id") + "%")
        assert ("tercapai" in cells[4]) and (("belum" not in cells[4]) == row["achieved"])


def test_the_embed_is_the_chart_alone_and_may_be_framed_anywhere(web):
    response = web.get("/datasets/ipm-kabkota/embed?region=6300")
    embed = Page(response.get_data(as_text=True))
    assert embed.marks == 4
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in web.get("/").headers["Content-Security-Policy"]


def test_the_feed_is_atom_with_an_entry_per_data_changing_harvest(web):
    response = web.get("/datasets/ipm-kabkota/feed.atom")
    assert response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 1  # one harvest, which added every figure
    assert "60" in entries[0].find(f"{ATOM}title").text
    alternate = feed.find(f"{ATOM}link[@rel='alternate']").get("href")
    assert alternate.endswith("/datasets/ipm-kabkota")
    assert 'type="application/atom+xml"' in web.get("/datasets/ipm-kabkota").get_data(as_text=True)


def test_pages_are_small_tagged_and_load_nothing_from_elsewhere(web):
    for dataset in web.get("/api/v1/datasets").json["data"]:
        response = web.get(f"/datasets/{dataset['id']}")
        assert response.status_code == 200
        assert len(response.data) < 100_000, dataset["id"]
        shown = Page(response.get_data(as_text=True))
        assert all(src.startswith(("/", "data:")) for src in shown.sources), shown.sources
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    first = web.get("/datasets/ipm-kabkota")
    again = web.get("/datasets/ipm-kabkota", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    english = web.get("/datasets/ipm-kabkota", headers={"Accept-Language": "en"})
    assert english.headers["ETag"] != first.headers["ETag"]
    assert english.headers["Content-Language"] == "en"


def test_the_search_page_finds_through_a_typo_and_narrows_by_facet(web):
    api = web.get("/api/v1/search?q=kemiskinnan&limit=100").json
    found = page(web, "/search?q=kemiskinnan")
    results = [href for href, _ in found.links if href.startswith("/datasets/")]
    assert results == [f"/datasets/{hit['id']}" for hit in api["data"]]  # the API's order
    html = web.get("/search?q=kemiskinnan").get_data(as_text=True)
    assert "Menampilkan hasil untuk" in html and "<strong>kemiskinan</strong>" in html
    facet = next(href for href, label in found.links if label == "bappeda")
    narrowed = page(web, facet)
    narrowed_results = [h for h, _ in narrowed.links if h.startswith("/datasets/")]
    api_narrowed = web.get("/api/v1/search?q=kemiskinnan&tag=bappeda").json["data"]
    assert narrowed_results == [f"/datasets/{hit['id']}" for hit in api_narrowed]
    assert 0 < len(narrowed_results) < len(results)
    english = web.get("/search?q=poverty&lang=en").get_data(as_text=True)
    assert "Poverty line by regency/city" in english


@pytest.mark.parametrize(
    "query", ["q=kemiskinan&page=0", "q=kemiskinan&page=x", "q=" + "x" * 201, "q=a&level=planet"]
)
def test_a_bad_search_is_a_page_saying_what_to_change(web, query):
    response = web.get(f"/search?{query}")
    assert response.status_code == 400 and response.mimetype == "text/html"
