"""as_of and updated_after on the observations (JSON and CSV), as a client sees them."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from tests.store.test_history import CELL, DAY, LATER, OTHER, harvest

URL = "/api/v1/datasets/demo/observations"


@pytest.fixture
def client(engine, make_app):
    return make_app().test_client()


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


def _cells(page: dict) -> dict:
    return {
        (o["region"]["code"], o["period"], o["dimensions"]["jenis_kelamin"]["code"]): o["value"]
        for o in page["data"]
    }


def _as_of(client, instant: str) -> dict:
    response = client.get(URL, query_string={"as_of": instant})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _history(engine):
    harvest(engine, {CELL: "4.02", OTHER: "1"}, DAY[1])
    harvest(engine, {CELL: "4.03", OTHER: "1"}, DAY[2])
    harvest(engine, {OTHER: "1"}, DAY[3])
    harvest(engine, {CELL: "4.03", OTHER: "1", LATER: "9"}, DAY[4])


def test_as_of_serves_the_figures_of_that_instant(engine, client):
    _history(engine)
    before = _as_of(client, _z(DAY[1] - timedelta(microseconds=1)))
    assert before == {"data": [], "next": None, "warnings": [], "as_of": None}
    page = _as_of(client, _z(DAY[1]))
    assert _cells(page) == {CELL: 4.02, OTHER: 1}
    assert page["as_of"] == _z(DAY[1])
    assert _cells(_as_of(client, _z(DAY[2]))) == {CELL: 4.03, OTHER: 1}
    assert _cells(_as_of(client, _z(DAY[3]))) == {OTHER: 1}  # withdrawn since
    assert _cells(_as_of(client, _z(DAY[4]))) == {CELL: 4.03, OTHER: 1, LATER: 9}


def test_as_of_reads_offsets_and_days_in_wib(engine, client):
    _history(engine)  # DAY[n] is 02:00 UTC: 09:00 WIB of that day
    assert _cells(_as_of(client, "2026-03-02T09:00:00+07:00")) == {CELL: 4.02, OTHER: 1}
    assert _cells(_as_of(client, "2026-03-02T08:59:59.999999+07:00")) == {}
    # a day is its start in WIB: 2026-03-03 is 2026-03-02T17:00Z, after DAY[1], before DAY[2]
    assert _cells(_as_of(client, "2026-03-03")) == {CELL: 4.02, OTHER: 1}


def test_as_of_keeps_the_values_exact_and_the_filters(engine, client):
    harvest(engine, {CELL: "7.10", OTHER: "1"}, DAY[1])
    harvest(engine, {CELL: "7.1", OTHER: "1"}, DAY[2])
    response = client.get(URL, query_string={"as_of": _z(DAY[1]), "dim.jenis_kelamin": "1"})
    assert b'"value":7.10,' in response.data
    assert len(response.get_json()["data"]) == 1


@pytest.mark.parametrize(
    ("query", "param", "words"),
    [
        ({"as_of": "2099-01-01T00:00:00Z"}, "as_of", "in the future"),
        ({"updated_after": "2099-01-01"}, "updated_after", "in the future"),
        ({"as_of": "2026-05-01T00:00:00"}, "as_of", "RFC 3339 with an offset"),
        ({"as_of": "2026-02-30"}, "as_of", "no such day"),
        ({"as_of": "yesterday"}, "as_of", "not an instant"),
    ],
)
def test_a_bad_instant_is_a_400_that_says_why(engine, client, query, param, words):
    harvest(engine, {CELL: "1"}, DAY[1])
    for url in (URL, URL + ".csv"):
        response = client.get(url, query_string=query)
        assert response.status_code == 400
        problem = response.get_json()
        assert words in " ".join(problem["errors"][param])


def test_a_past_answer_is_cached_as_immutable_a_recent_one_is_not(engine, client):
    _history(engine)
    past = client.get(URL, query_string={"as_of": _z(DAY[2])})
    assert past.headers["Cache-Control"] == "public, max-age=86400, immutable"
    again = client.get(
        URL, query_string={"as_of": _z(DAY[2])}, headers={"If-None-Match": past.headers["ETag"]}
    )
    assert again.status_code == 304
    assert again.headers["Cache-Control"] == "public, max-age=86400, immutable"
    recent = client.get(URL, query_string={"as_of": _z(DAY[5])})  # a next run may still land
    assert recent.headers["Cache-Control"] == "no-cache"
    assert recent.headers["Opendata-As-Of"] == _z(DAY[4])
    assert client.get(URL).headers["Cache-Control"] == "no-cache"
    assert "Opendata-As-Of" not in client.get(URL).headers


def test_as_of_csv_is_the_csv_of_that_instant(engine, client):
    _history(engine)
    response = client.get(URL + ".csv", query_string={"as_of": _z(DAY[1])})
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["period"], r["jenis_kelamin_code"], r["value"]) for r in rows] == [
        ("2024", "1", "4.02"),
        ("2024", "2", "1"),
    ]
    assert response.headers["Opendata-As-Of"] == _z(DAY[1])
    assert response.headers["Cache-Control"] == "public, max-age=86400, immutable"


def _poll(client, since: str, limit: int = 100) -> tuple[list[dict], str]:
    """Every page of changes since ``since``; the changes and the answer's as_of."""
    changes, url, query = [], URL, {"updated_after": since, "limit": limit}
    first_as_of = None
    while url:
        page = client.get(url, query_string=query).get_json()
        first_as_of = first_as_of or page["as_of"]
        assert page["as_of"] == first_as_of  # every page shows the same run
        changes += page["data"]
        url, query = page["next"], None
    return changes, first_as_of


def _change(o: dict) -> tuple:
    key = (o["region"]["code"], o["period"], o["dimensions"]["jenis_kelamin"]["code"])
    return (key, o["change"], o["value"])


def test_polling_with_as_of_gets_every_change_once(engine, client):
    mark = "2026-01-01T00:00:00Z"
    seen: list[tuple] = []
    script = [
        ({CELL: "4.02", OTHER: "1"}, [(CELL, "added", 4.02), (OTHER, "added", 1)]),
        ({CELL: "4.03", OTHER: "1"}, [(CELL, "revised", 4.03)]),
        ({OTHER: "1"}, [(CELL, "withdrawn", None)]),
        ({OTHER: "1"}, []),  # nothing changed
        ({CELL: "4.03", OTHER: "1", LATER: "9"}, [(CELL, "added", 4.03), (LATER, "added", 9)]),
    ]
    for day, (cells, expected) in enumerate(script, 1):
        harvest(engine, cells, DAY[day])
        changes, mark = _poll(client, mark, limit=1)
        assert sorted(_change(o) for o in changes) == sorted(expected)
        assert mark == _z(DAY[day])
        assert all(o["updated_at"] == _z(DAY[day]) for o in changes)
        seen += [_change(o) for o in changes]
    assert len(seen) == 6  # each change once: nothing repeated across polls
    assert _poll(client, mark)[0] == []


def test_a_harvest_landing_between_pages_waits_for_the_next_poll(engine, client):
    harvest(engine, {CELL: "1", OTHER: "1"}, DAY[1])
    first = client.get(URL, query_string={"updated_after": "2026-01-01", "limit": 1}).get_json()
    harvest(engine, {CELL: "2", OTHER: "2"}, DAY[2])  # lands while the client pages
    second = client.get(first["next"]).get_json()
    assert second["as_of"] == first["as_of"] == _z(DAY[1])
    assert [o["value"] for o in first["data"] + second["data"]] == [1, 1]
    changes, _ = _poll(client, first["as_of"])
    assert sorted(_change(o) for o in changes) == [(CELL, "revised", 2), (OTHER, "revised", 2)]


def test_a_withdrawn_cell_has_no_value(engine, client):
    harvest(engine, {CELL: "4.02", OTHER: "1"}, DAY[1])
    harvest(engine, {OTHER: "1"}, DAY[2])
    page = client.get(URL, query_string={"updated_after": _z(DAY[1])}).get_json()
    (withdrawn,) = page["data"]
    assert (withdrawn["change"], withdrawn["value"], withdrawn["flag"]) == ("withdrawn", None, None)
    assert "value_to" not in withdrawn


def test_changes_as_csv(engine, client):
    harvest(engine, {CELL: "4.02", OTHER: "1"}, DAY[1])
    harvest(engine, {CELL: "4.03"}, DAY[2])
    response = client.get(URL + ".csv", query_string={"updated_after": _z(DAY[1])})
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["jenis_kelamin_code"], r["value"], r["change"], r["updated_at"]) for r in rows] == [
        ("1", "4.03", "revised", _z(DAY[2])),
        ("2", "", "withdrawn", _z(DAY[2])),
    ]
    assert response.headers["Opendata-As-Of"] == _z(DAY[2])
    assert response.headers["Cache-Control"] == "no-cache"


def test_a_changes_cursor_is_bound_to_its_run(engine, client):
    harvest(engine, {CELL: "1", OTHER: "1"}, DAY[1])
    first = client.get(URL, query_string={"updated_after": "2026-01-01", "limit": 1}).get_json()
    cursor = first["next"].split("cursor=")[1]
    forged = cursor.rsplit(".", 1)[0] + ".7"
    for query in (
        {"updated_after": "2026-01-01", "cursor": forged},
        {"cursor": cursor},  # a changes cursor without updated_after
    ):
        response = client.get(URL, query_string=query)
        assert response.status_code == 400
        assert "cursor" in response.get_json()["errors"]


def test_updated_after_with_as_of_is_the_changes_between_two_instants(engine, client):
    _history(engine)
    query = {"updated_after": _z(DAY[1]), "as_of": _z(DAY[3])}
    page = client.get(URL, query_string=query).get_json()
    assert [_change(o) for o in page["data"]] == [(CELL, "withdrawn", None)]  # as at DAY[3]
    assert page["as_of"] == _z(DAY[3])
    backwards = {"updated_after": _z(DAY[3]), "as_of": _z(DAY[1])}
    assert client.get(URL, query_string=backwards).get_json()["data"] == []


REVISIONS = "/api/v1/datasets/demo/revisions"


def test_revisions_give_every_version_of_each_cell(engine, client):
    _history(engine)
    page = client.get(REVISIONS, query_string={"region": "63.71", "dim.jenis_kelamin": "1"})
    assert page.status_code == 200
    (cell,) = page.get_json()["data"]
    assert (cell["region"]["code"], cell["period"]) == ("6371", "2024")
    assert cell["dimensions"]["jenis_kelamin"]["code"] == "1"
    assert [
        (v["value"], v["withdrawn"], v["run"], v["valid_from"], v["valid_to"], v["links"]["run"])
        for v in cell["versions"]
    ] == [
        (4.02, False, 1, _z(DAY[1]), _z(DAY[2]), "/api/v1/runs/1"),
        (4.03, False, 2, _z(DAY[2]), _z(DAY[3]), "/api/v1/runs/2"),
        (None, True, 3, _z(DAY[3]), _z(DAY[4]), "/api/v1/runs/3"),
        (4.03, False, 4, _z(DAY[4]), None, "/api/v1/runs/4"),
    ]
    assert b'"value":4.02,' in page.data  # exact digits, as everywhere


def test_revisions_page_by_cell_and_keep_withdrawn_and_retired_cells(engine, client):
    harvest(engine, {CELL: "1", OTHER: "2"}, DAY[1])
    harvest(engine, {CELL: "3"}, DAY[2])  # OTHER withdrawn
    harvest(engine, {CELL: "5"}, DAY[3], indicator="2")  # indicator 1's series retired
    cells, url, query = [], REVISIONS, {"limit": 1}
    while url:
        page = client.get(url, query_string=query).get_json()
        assert len(page["data"]) <= 1
        cells += page["data"]
        url, query = page["next"], None
    versions = [[(v["value"], v["withdrawn"], v["run"]) for v in c["versions"]] for c in cells]
    assert versions == [
        [(1, False, 1), (3, False, 2), (None, True, 3)],  # its series went at run 3
        [(2, False, 1), (None, True, 2)],  # withdrawn at run 2 (its series went later)
        [(5, False, 3)],  # indicator 2's cell
    ]


def test_run_links_follow_the_public_url(engine, make_app):
    harvest(engine, {CELL: "1"}, DAY[1])
    client = make_app(PUBLIC_URL="https://data.example.go.id").test_client()
    (cell,) = client.get(REVISIONS).get_json()["data"]
    assert cell["versions"][0]["links"]["run"] == "https://data.example.go.id/api/v1/runs/1"


def test_a_history_download_is_named_after_its_instant(engine, client):
    harvest(engine, {CELL: "1"}, DAY[1])
    response = client.get(URL + ".csv", query_string={"as_of": "2026-03-05", "region": "6371"})
    disposition = response.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="demo_6371_as-of-2026-03-04T170000Z.csv"'
    response = client.get(URL + ".csv", query_string={"updated_after": "2026-03-01T00:00:00Z"})
    assert "demo_updated-after-2026-03-01T000000Z.csv" in response.headers["Content-Disposition"]


def test_a_region_whose_figures_went_since_is_no_warning_as_of_then(engine, client):
    harvest(engine, {CELL: "1", LATER: "2"}, DAY[1])
    harvest(engine, {CELL: "1"}, DAY[2], indicator="2")  # 6372's only series retired
    now = client.get(URL, query_string={"region": "6372"}).get_json()
    assert now["warnings"] == ["region 6372 (Kota Banjarbaru) has no observations in demo"]
    then = client.get(URL, query_string={"region": "6372", "as_of": _z(DAY[1])}).get_json()
    assert (then["warnings"], len(then["data"])) == ([], 1)
