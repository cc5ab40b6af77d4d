"""The CKAN harvester over real HTTP, against the local stand-in portal of ckan_server.py."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests

from harvesters.ckan import CKANHarvester
from harvesters.exceptions import HarvestTimeout, ParseError, UpstreamError
from harvesters.transport import SystemClock
from tests.harvesters.ckan_server import (
    BAD_GATEWAY_PAGE,
    SETTINGS,
    CKANStandIn,
    PortalFile,
    Resource,
    ckan_spec,
    json_body,
)

RID = "d9fbaddb-4995-4dd1-bd93-d2732998e3ac"
KALSEL = ["6301", "6302", "6303", "6304", "6305", "6306", "6307", "6308", "6309", "6310"]
KALSEL += ["6311", "6371", "6372"]
TABLE = {
    "region": {"column": "Kode", "by": "code"},
    "periods": "across",
    "indicator": {"code": "penduduk", "name": "Jumlah penduduk", "unit": "Jiwa"},
}
COLUMNS = [("Kode", "text"), ("Wilayah", "text"), ("2022", "numeric"), ("2023", "text")]


def kalsel(resource_id: str = RID, **kwargs) -> Resource:
    """13 kabupaten/kota: 2022 as JSON numbers, 2023 as text (a ``text`` field)."""
    rows = [
        [code, f"Wilayah {code}", Decimal(f"{i}.10"), f"{1000 + i}.5"]
        for i, code in enumerate(KALSEL, start=1)
    ]
    return Resource.wide(resource_id, COLUMNS, rows, **kwargs)


def harvest(url, clock, tmp_path, regions, table=TABLE, settings=SETTINGS, **ckan):
    """Fetch and parse one dataset; return (result, payloads, kept)."""
    spec = ckan_spec(tmp_path, url, ckan.pop("resource_id", RID), table, **ckan)
    kept = []
    with requests.Session() as http:
        harvester = CKANHarvester(settings, session=http, clock=clock)
        payloads = harvester.fetch(spec, kept.append)
    return harvester.parse(spec, payloads, regions), payloads, kept


def fetch_error(url, clock, tmp_path, error=UpstreamError, settings=SETTINGS, **ckan):
    """Fetch, expecting ``error``; return (the error's text, kept payloads)."""
    spec = ckan_spec(tmp_path, url, ckan.pop("resource_id", RID), TABLE, **ckan)
    kept = []
    with pytest.raises(error) as caught:
        CKANHarvester(settings, clock=clock).fetch(spec, kept.append)
    return str(caught.value), kept


# --- paging -----------------------------------------------------------------------------------


def test_short_pages_are_paged_by_the_rows_received_until_total(clock, tmp_path, regions):
    with CKANStandIn([kalsel()], page_max=3) as portal:
        result, payloads, kept = harvest(portal.url, clock, tmp_path, regions, page_size=5)
    assert portal.offsets() == ["0", "3", "6", "9", "12"]
    searches = [s.params for s in portal.requests if s.action == "datastore_search"]
    assert {(p["limit"], p["sort"], p["resource_id"]) for p in searches} == {("5", "_id", RID)}
    assert len(result.records) == 13 * 2
    assert sorted({r.region for r in result.records}) == KALSEL
    assert payloads == kept and len(kept) == 1 + 5


def test_links_next_is_never_followed_past_the_total(clock, tmp_path, regions):
    # every answer has a _links.next (offset + limit), as CKAN's do, even past the end
    with CKANStandIn([kalsel()]) as portal:
        result, _, kept = harvest(portal.url, clock, tmp_path, regions)
    assert portal.actions() == ["resource_show", "datastore_search"]
    assert b'"next"' in kept[1].body
    assert len(result.records) == 26


def test_full_pages_end_at_the_total(clock, tmp_path, regions):
    with CKANStandIn([kalsel()]) as portal:
        harvest(portal.url, clock, tmp_path, regions, page_size=13)
    assert portal.offsets() == ["0"]


def test_numbers_keep_their_published_text(clock, tmp_path, regions):
    resource = Resource.wide(
        RID,
        [("Kode", "text"), ("2017", "numeric"), ("2018", "text"), ("2019", "numeric")],
        [["6303", Decimal("8002269316.91"), "164.43", 0], ["6371", Decimal("7.10"), "0", 12]],
    )
    with CKANStandIn([resource]) as portal:
        result, _, kept = harvest(portal.url, clock, tmp_path, regions)
    assert b'"2017":8002269316.91' in kept[1].body
    values = {(r.region, r.period): r.value for r in result.records}
    assert [str(values["6303", p]) for p in ("2017", "2018", "2019")] == [
        "8002269316.91",
        "164.43",
        "0",
    ]
    assert str(values["6371", "2017"]) == "7.10"
    assert values["6371", "2019"] == Decimal(12)


def test_a_total_that_changes_between_pages_fails(clock, tmp_path):
    resource = kalsel()

    def grow(portal, seen):
        if seen.action == "datastore_search" and seen.params.get("offset") == "5":
            resource.records.append(dict(resource.records[0]))  # a row added while we read
        return None

    with CKANStandIn([resource], script=grow) as portal:
        text, kept = fetch_error(portal.url, clock, tmp_path, page_size=5)
    assert "changed while it was read" in text
    assert "its total was 13 on the first page, 14 at offset 5" in text
    assert "the next run reads it again" in text
    assert len(kept) == 3  # resource_show and both pages were kept


def test_fields_that_change_between_pages_fail(clock, tmp_path):
    resource = kalsel()

    def rename(portal, seen):
        if seen.params.get("offset") == "5":
            resource.fields[3] = {"id": "Tahun 2023", "type": "text"}
            for record in resource.records:
                record["Tahun 2023"] = record.pop("2023")
        return None

    with CKANStandIn([resource], script=rename) as portal:
        text, _ = fetch_error(portal.url, clock, tmp_path, page_size=5)
    assert "changed while it was read" in text and "'Tahun 2023'" in text


def test_an_estimated_total_fails(clock, tmp_path):
    def estimated(portal, seen):
        if seen.action != "datastore_search":
            return None
        body = portal._datastore_search(seen)[2]
        body["result"]["total_was_estimated"] = True
        return 200, "application/json", body

    with CKANStandIn([kalsel()], script=estimated) as portal:
        text, _ = fetch_error(portal.url, clock, tmp_path, page_size=5)
    assert "estimated the table's total (13)" in text


def test_a_page_without_records_before_the_total_fails(clock, tmp_path):
    def none(portal, seen):
        if seen.params.get("offset") == "5":
            body = portal._datastore_search(seen)[2]
            body["result"]["records"] = []
            return 200, "application/json", body
        return None

    with CKANStandIn([kalsel()], script=none) as portal:
        text, _ = fetch_error(portal.url, clock, tmp_path, page_size=5)
    assert "no records at offset 5, but the table's total is 13" in text


def test_an_empty_table_is_no_data(clock, tmp_path, regions):
    with CKANStandIn([Resource.wide(RID, COLUMNS, [])]) as portal:
        result, payloads, _ = harvest(portal.url, clock, tmp_path, regions)
    assert portal.offsets() == ["0"]
    assert result.no_data and result.records == []
    assert "empty (total 0)" in result.messages[0]
    assert len(payloads) == 2


# --- errors -----------------------------------------------------------------------------------


def test_an_unknown_resource_fails_with_the_portals_message(clock, tmp_path):
    with CKANStandIn([kalsel()]) as portal:
        text, kept = fetch_error(portal.url, clock, tmp_path, resource_id="no-such-resource")
    assert "HTTP 404" in text
    assert "Not found: Resource was not found." in text
    assert "check ckan.resource_id (no-such-resource)" in text
    assert [p.status for p in kept] == [404]  # the error body was kept, and not retried
    assert b'"success":false' in kept[0].body.replace(b" ", b"")


def test_success_false_fails_with_the_portals_message_even_with_http_200(clock, tmp_path):
    def refuse(portal, seen):
        body = {"help": "", "success": False, "error": {"message": "Akses ditolak sementara"}}
        return 200, "application/json", body

    with CKANStandIn([kalsel()], script=refuse) as portal:
        text, kept = fetch_error(portal.url, clock, tmp_path)
    assert "the portal refused" in text and "'Akses ditolak sementara'" in text
    assert len(kept) == 1


def test_a_validation_error_names_its_fields(clock, tmp_path):
    def invalid(portal, seen):
        error = {"__type": "Validation Error", "limit": ["Invalid integer"]}
        return 409, "application/json", {"success": False, "error": error}

    with CKANStandIn([kalsel()], script=invalid) as portal:
        text, _ = fetch_error(portal.url, clock, tmp_path)
    assert "HTTP 409" in text and "Validation Error: limit: Invalid integer" in text


def test_a_private_resource_says_so(clock, tmp_path):
    def private(portal, seen):
        return portal.error(seen, 403, f"Access denied: User not authorized to read resource {RID}")

    with CKANStandIn([kalsel()], script=private) as portal:
        text, _ = fetch_error(portal.url, clock, tmp_path)
    assert "Access denied" in text and "not public" in text


def test_a_proxys_html_error_page_is_retried_then_fails_with_its_title(clock, tmp_path):
    with CKANStandIn(
        [kalsel()], script=lambda p, s: (502, "text/html", BAD_GATEWAY_PAGE)
    ) as portal:
        text, kept = fetch_error(portal.url, clock, tmp_path)
    assert len(portal.requests) == len(kept) == 4  # HTTP_RETRIES = 3
    assert clock.sleeps == [1.0, 2.0, 4.0]
    assert "HTTP 502 after 4 attempt(s)" in text
    assert "an HTML page titled '502 Bad Gateway'" in text


def test_an_html_page_instead_of_json_fails_saying_what_to_check(clock, tmp_path):
    page = "<html><head><title>Satu Data Kabupaten - Beranda</title></head></html>"
    with CKANStandIn([kalsel()], script=lambda p, s: (200, "text/html", page)) as portal:
        text, kept = fetch_error(portal.url + "/portal", clock, tmp_path)
    assert "'Satu Data Kabupaten - Beranda' instead of CKAN's JSON" in text
    assert "is ckan.url" in text and f"{portal.url}/portal/api/3/action" in text
    assert len(kept) == 1


def test_5xx_answers_are_retried_with_backoff_then_succeed(clock, tmp_path, regions):
    with CKANStandIn([kalsel()], failures=2) as portal:
        result, payloads, kept = harvest(portal.url, clock, tmp_path, regions)
    assert [p.status for p in kept] == [500, 500, 200, 200]  # the error pages were kept too
    assert clock.sleeps == [1.0, 2.0]
    assert payloads == kept[2:]
    assert len(result.records) == 26


def test_5xx_answers_fail_after_the_retries(clock, tmp_path):
    settings = {**SETTINGS, "HTTP_RETRIES": 1}
    with CKANStandIn([kalsel()], failures=10) as portal:
        text, kept = fetch_error(portal.url, clock, tmp_path, settings=settings)
    assert "HTTP 500 after 2 attempt(s)" in text and "'500 Internal Server Error'" in text
    assert len(kept) == 2


def test_a_hung_portal_meets_the_datasets_deadline(tmp_path):
    settings = {**SETTINGS, "HARVEST_DATASET_TIMEOUT": 0.3, "CKAN_REQUESTS_PER_SECOND": 1000.0}
    hang = lambda seen: seen.action == "datastore_search"  # noqa: E731
    with CKANStandIn([kalsel()], hang=hang) as portal:
        text, kept = fetch_error(
            portal.url, SystemClock(), tmp_path, error=HarvestTimeout, settings=settings
        )
    assert "exceeded OPENDATA_HARVEST_DATASET_TIMEOUT=0.3 s" in text
    assert [p.params["action"] for p in kept] == ["resource_show"]


# --- the rate, the User-Agent -----------------------------------------------------------------


def test_requests_keep_to_the_rate(clock, tmp_path, regions):
    with CKANStandIn([kalsel()]) as portal:
        harvest(portal.url, clock, tmp_path, regions, page_size=5)
    assert clock.sleeps == [0.5, 0.5, 0.5]  # 2 a second: resource_show, then 3 pages


def test_the_user_agent_names_the_harvester(clock, tmp_path, regions):
    with CKANStandIn([kalsel()]) as portal:
        harvest(portal.url, clock, tmp_path, regions)
    assert {s.user_agent for s in portal.requests} == {
        "Mozilla/5.0 (compatible; opendata-kalsel/0.1; open statistics harvester)"
    }


# --- where the action API is ------------------------------------------------------------------


def test_a_locale_in_the_url_is_dropped(clock, tmp_path, regions):
    with CKANStandIn([kalsel()]) as portal:
        result, _, _ = harvest(portal.url + "/tr/", clock, tmp_path, regions)
    assert {s.path for s in portal.requests} == {
        "/api/3/action/resource_show",
        "/api/3/action/datastore_search",
    }
    assert result.indicators[0].source_ref == (
        f"{portal.url}/dataset/3f1c9a52-paket-data/resource/{RID}"
    )


def test_a_portal_under_a_path_keeps_it(clock, tmp_path, regions):
    with CKANStandIn([kalsel()], mount="/ckan") as portal:
        result, _, _ = harvest(portal.url, clock, tmp_path, regions)
    assert {s.path for s in portal.requests} == {
        "/ckan/api/3/action/resource_show",
        "/ckan/api/3/action/datastore_search",
    }
    assert len(result.records) == 26


def test_a_url_that_names_the_action_api_is_used_as_given(clock, tmp_path, regions):
    with CKANStandIn([kalsel()]) as portal:
        harvest(portal.url + "/tr/api/action", clock, tmp_path, regions)
    assert {s.path for s in portal.requests} == {
        "/tr/api/action/resource_show",
        "/tr/api/action/datastore_search",
    }


# --- no DataStore: the resource's file --------------------------------------------------------

CSV = "Kode;Wilayah;2022;2023\n6303;Banjar;1.234,5;7,10\n6371;Kota Banjarmasin;12;-\n"


def test_without_a_datastore_the_csv_file_is_read_with_the_same_table(clock, tmp_path, regions):
    file = PortalFile("penduduk-2023.csv", CSV.encode("utf-8"))
    resource = Resource(RID, datastore_active=False, file=file)
    table = {**TABLE, "decimal": ","}
    with CKANStandIn([resource]) as portal:
        result, payloads, kept = harvest(portal.url, clock, tmp_path, regions, table=table)
    assert portal.actions() == ["resource_show", "download"]
    assert payloads == kept and payloads[1].body == CSV.encode("utf-8")
    assert payloads[1].params == {"action": "download", "url": portal.file_url(resource)}
    values = {(r.region, r.period): (r.value, r.flag) for r in result.records}
    assert values == {
        ("6303", "2022"): (Decimal("1234.5"), None),
        ("6303", "2023"): (Decimal("7.10"), None),
        ("6371", "2022"): (Decimal("12"), None),
        ("6371", "2023"): (None, "M"),
    }
    assert "no active DataStore" in result.messages[0]
    assert "delimiter semicolon" in result.messages[1]


def test_without_a_datastore_an_xlsx_file_is_read_from_its_sheet(clock, tmp_path, regions):
    openpyxl = pytest.importorskip("openpyxl")
    workbook = openpyxl.Workbook()
    workbook.active.title = "Catatan"
    workbook.active.append(["Sumber: Bappeda"])
    sheet = workbook.create_sheet("Tabel")
    sheet.append(["Kode", "Wilayah", 2022, 2023])
    sheet.append([6303, "Banjar", 1.5, 7.1])
    sheet.cell(2, 4).number_format = "0.00"
    path = tmp_path / "file.xlsx"
    workbook.save(path)
    file = PortalFile("penduduk.xlsx", path.read_bytes(), "application/vnd.ms-excel")
    with CKANStandIn([Resource(RID, datastore_active=False, file=file)]) as portal:
        result, _, _ = harvest(portal.url, clock, tmp_path, regions, sheet="Tabel")
    assert [(r.region, r.period, str(r.value)) for r in result.records] == [
        ("6303", "2022", "1.5"),
        ("6303", "2023", "7.10"),
    ]


def test_without_a_datastore_a_json_file_of_records_is_read(clock, tmp_path, regions):
    records = [
        {"_id": 1, "Kode": "6303", "2022": Decimal("75.57"), "2023": "75,00"},
        {"_id": 2, "Kode": "6371", "2022": 0, "2023": "WTP"},
    ]
    file = PortalFile("data.json", json_body(records), "application/json")
    table = {**TABLE, "decimal": ","}
    with CKANStandIn([Resource(RID, datastore_active=False, file=file)]) as portal:
        result, _, _ = harvest(portal.url, clock, tmp_path, regions, table=table)
    values = [(r.region, r.period, r.value, r.flag, r.note) for r in result.records]
    assert values == [
        ("6303", "2022", Decimal("75.57"), None, None),
        ("6303", "2023", Decimal("75.00"), None, None),
        ("6371", "2022", Decimal("0"), None, None),
        ("6371", "2023", None, "L", "WTP"),
    ]


@pytest.mark.parametrize("active", ["True", "true"])
def test_datastore_active_as_text_is_read_as_older_portals_write_it(
    clock, tmp_path, regions, active
):
    def as_text(portal, seen):
        if seen.action != "resource_show":
            return None
        body = portal._resource_show(seen)[2]
        body["result"]["datastore_active"] = active
        return 200, "application/json", body

    with CKANStandIn([kalsel()], script=as_text) as portal:
        result, _, _ = harvest(portal.url, clock, tmp_path, regions)
    assert portal.actions() == ["resource_show", "datastore_search"]
    assert len(result.records) == 26


def test_without_a_datastore_or_a_file_it_fails(clock, tmp_path):
    with CKANStandIn([Resource(RID, datastore_active=False)]) as portal:
        text, kept = fetch_error(portal.url, clock, tmp_path)
    assert "no active DataStore and no file" in text
    assert len(kept) == 1


def test_a_file_that_is_an_html_page_fails_saying_so(clock, tmp_path, regions):
    page = b"<!DOCTYPE html><html><head><title>Login</title></head></html>"
    file = PortalFile("tabel.xls", page, "text/html")
    with CKANStandIn([Resource(RID, datastore_active=False, file=file)]) as portal:
        spec = ckan_spec(tmp_path, portal.url, RID, TABLE)
        harvester = CKANHarvester(SETTINGS, clock=clock)
        payloads = harvester.fetch(spec, lambda payload: None)
    with pytest.raises(ParseError, match=r"tabel\.xls is an HTML page"):
        harvester.parse(spec, payloads, regions)


def test_a_missing_file_fails_with_its_status(clock, tmp_path):
    resource = Resource(RID, datastore_active=False, file=PortalFile("gone.csv", b""))

    def gone(portal, seen):
        return (
            (404, "text/html", "<html><title>404 Not Found</title></html>")
            if (seen.action is None)
            else None
        )

    with CKANStandIn([resource], script=gone) as portal:
        text, kept = fetch_error(portal.url, clock, tmp_path)
    assert "HTTP 404" in text and "gone.csv" in text and "'404 Not Found'" in text
    assert len(kept) == 2


# --- offline ----------------------------------------------------------------------------------


def test_offline_the_snapshot_folder_answers_every_request(clock, tmp_path, regions):
    spec = ckan_spec(tmp_path, "https://data.example.go.id/id", RID, {**TABLE, "decimal": ","})
    folder = spec.snapshot_dir
    folder.mkdir(parents=True)
    file_url = f"https://data.example.go.id/dataset/p/resource/{RID}/download/penduduk%202023.csv"
    show = {"success": True, "result": {"datastore_active": False, "url": file_url}}
    (folder / "resource_show.json").write_bytes(json_body(show))
    (folder / "penduduk-2023.csv").write_text(CSV, encoding="utf-8")
    kept = []
    harvester = CKANHarvester(SETTINGS, clock=clock, offline=True)
    payloads = harvester.fetch(spec, kept.append)
    assert clock.sleeps == []  # no rate limit: no portal is asked
    assert [p.url for p in kept] == [
        f"https://data.example.go.id/api/3/action/resource_show?id={RID}",
        file_url,
    ]
    result = harvester.parse(spec, payloads, regions)
    assert len(result.records) == 4


def test_offline_a_missing_snapshot_file_is_named(clock, tmp_path):
    spec = ckan_spec(tmp_path, "https://data.example.go.id", RID, TABLE)
    with pytest.raises(UpstreamError) as caught:
        CKANHarvester(SETTINGS, clock=clock, offline=True).fetch(spec, lambda payload: None)
    assert "HTTP 404" in str(caught.value)
    assert f"no snapshot file resource_show.json in {spec.snapshot_dir}" in str(caught.value)
