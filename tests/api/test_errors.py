"""Every error is RFC 9457 problem+json; bad parameters are 400s naming the parameter."""

from __future__ import annotations

import base64
import json
from datetime import date

import pytest

from opendata.api.cursor import MAX_ID, decode_cursor, encode_cursor, filters_digest
from opendata.store.queries import ObservationQuery

OBS = "/api/v1/datasets/demo/observations"


def assert_problem(response, status):
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["type"] == "about:blank"
    assert problem["status"] == status
    assert problem["title"] and problem["detail"]
    return problem


@pytest.mark.parametrize("csv", [False, True], ids=["json", "csv"])
@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("from=2024-13", "from"),
        ("to=24", "to"),
        ("from=0999", "from"),
        ("from=2024-Q3&to=2024-Q2", "from"),
        ("region=9998", "region"),
        ("region=6371,nowhere", "region"),
        ("dim.sex=1", "dim.sex"),
        ("dim.jenis_kelamin=9", "dim.jenis_kelamin"),
        ("dim.jenis_kelamin=", "dim.jenis_kelamin"),
        ("dim.=1", "dim."),
        ("colour=red", "colour"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(client, query, param, csv):
    url = f"{OBS}.csv?{query}" if csv else f"{OBS}?{query}"
    problem = assert_problem(client.get(url), 400)
    assert list(problem["errors"]) == [param]
    assert problem["errors"][param][0] in problem["detail"]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("limit=0", "limit"),
        ("limit=10001", "limit"),
        ("limit=ten", "limit"),
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=WyJhIl0", "cursor"),  # base64 of ["a"]
    ],
)
def test_a_bad_page_parameter_is_a_400(client, query, param):
    problem = assert_problem(client.get(f"{OBS}?{query}"), 400)
    assert list(problem["errors"]) == [param]


def test_paging_parameters_are_unknown_to_the_csv(client):
    problem = assert_problem(client.get(f"{OBS}.csv?limit=5"), 400)
    assert "region" in problem["errors"]["limit"][0]


def test_a_cursor_cannot_be_replayed_with_other_filters(client):
    next_url = client.get(f"{OBS}?region=6371&limit=2").get_json()["next"]
    assert client.get(next_url).status_code == 200
    problem = assert_problem(client.get(next_url.replace("region=6371", "region=6372")), 400)
    assert "other filters" in problem["errors"]["cursor"][0]
    forged = encode_cursor(("6371", 1, date(2024, 1, 1), date(2024, 12, 31)), "0" * 16)
    assert_problem(client.get(f"{OBS}?cursor={forged}"), 400)


def forge(fields) -> str:
    """A cursor of any JSON, as anyone can make one (the digest is no secret)."""
    raw = json.dumps(fields, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


DIGEST = filters_digest(ObservationQuery("demo"))
YEAR = ["2024-01-01", "2024-12-31"]


@pytest.mark.parametrize(
    "fields",
    [
        ["\u0000", 1, *YEAR, DIGEST],  # PostgreSQL refuses NUL in a text parameter
        ["6371\u0000", 1, *YEAR, DIGEST],
        ["63\u000071", 1, *YEAR, DIGEST],
        ["", 1, *YEAR, DIGEST],
        ["63.71", 1, *YEAR, DIGEST],
        ["637", 1, *YEAR, DIGEST],
        ["63710100", 1, *YEAR, DIGEST],
        ["６３７１", 1, *YEAR, DIGEST],  # digits to Python's \d, not to [0-9]
        ["6371", -1, *YEAR, DIGEST],
        ["6371", 0, *YEAR, DIGEST],
        ["6371", MAX_ID + 1, *YEAR, DIGEST],
        ["6371", 2**70, *YEAR, DIGEST],
        ["6371", 10**200, *YEAR, DIGEST],
        ["6371", 1.0, *YEAR, DIGEST],
        ["6371", 1e400, *YEAR, DIGEST],  # Infinity
        ["6371", True, *YEAR, DIGEST],
        ["6371", "1", *YEAR, DIGEST],
        ["6371", None, *YEAR, DIGEST],
        [6371, 1, *YEAR, DIGEST],
        [["6371"], 1, *YEAR, DIGEST],
        ["6371", 1, "2024-02-30", "2024-12-31", DIGEST],
        ["6371", 1, "0000-01-01", "2024-12-31", DIGEST],
        ["6371", 1, "20240101", "2024-12-31", DIGEST],
        ["6371", 1, "2024-W01-1", "2024-12-31", DIGEST],
        ["6371", 1, "2024-01-01T00:00", "2024-12-31", DIGEST],
        ["6371", 1, "2024-01-01\u0000", "2024-12-31", DIGEST],
        ["6371", 1, "2024-01-01", "2023-12-31", DIGEST],
        ["6371", 1, 2024, "2024-12-31", DIGEST],
        ["6371", 1, "2024-01-01", None, DIGEST],
        ["6371", 1, *YEAR, DIGEST.upper()],
        ["6371", 1, *YEAR, None],
        ["6371", 1, *YEAR],
        ["6371", 1, *YEAR, DIGEST, "more"],
        {"region": "6371"},
        "6371",
        None,
    ],
)
def test_a_forged_cursor_is_a_400_not_a_500(client, fields):
    problem = assert_problem(client.get(f"{OBS}?cursor={forge(fields)}"), 400)
    assert list(problem["errors"]) == ["cursor"]
    assert "not a cursor of this API" in problem["errors"]["cursor"][0]


@pytest.mark.parametrize(
    "cursor",
    [
        "%00",
        "WyI2MzcxIiwxLCIyMDI0LTAxLTAxIiwiMjAyNC0xMi0zMSJd%00",
        "W" * 7_000,  # long, yet within OPENDATA_MAX_URL_LENGTH (a longer URL is a 414)
        "////",
        "!!!!",
        base64.urlsafe_b64encode(b"\xff\xfe[").decode(),  # not UTF-8
        forge(["6371", 1, *YEAR, DIGEST]) + "=",
    ],
)
def test_a_cursor_that_is_not_base64_json_is_a_400(client, cursor):
    problem = assert_problem(client.get(f"{OBS}?cursor={cursor}"), 400)
    assert list(problem["errors"]) == ["cursor"]


def test_a_well_formed_forged_cursor_only_says_where_the_page_starts(client):
    everything = client.get(f"{OBS}?limit=100").get_json()["data"]
    after_6371 = forge(["6371", MAX_ID, "9999-12-31", "9999-12-31", DIGEST])
    page = client.get(f"{OBS}?cursor={after_6371}&limit=100")
    assert page.status_code == 200
    assert page.get_json()["data"] == [o for o in everything if o["region"]["code"] > "6371"]
    assert decode_cursor(after_6371, DIGEST)[0] == "6371"


@pytest.mark.parametrize(
    ("url", "param"),
    [
        (f"{OBS}?from=2020&from=2021", "from"),
        (f"{OBS}?to=2024&to=2024", "to"),
        (f"{OBS}?limit=1&limit=2", "limit"),
        (f"{OBS}?limit=5&limit=5", "limit"),
        (f"{OBS}?cursor=a&cursor=b", "cursor"),
        (f"{OBS}.csv?from=2020&from=2021", "from"),
        (f"{OBS}.csv?to=2020&to=2021&region=6371&region=6372", "to"),
        ("/api/v1/regions?level=province&level=regency", "level"),
        ("/api/v1/regions?parent=63&parent=6300", "parent"),
    ],
)
def test_a_repeated_single_valued_parameter_is_a_400_naming_it(client, url, param):
    problem = assert_problem(client.get(url), 400)
    assert problem["errors"] == {param: ["given 2 times; give it once"]}
    assert f"{param}: given 2 times; give it once" in problem["detail"]


def test_a_repeated_parameter_is_reported_with_the_other_bad_ones(client):
    problem = assert_problem(client.get(f"{OBS}?limit=1&limit=2&limit=3&from=x&colour=red"), 400)
    assert set(problem["errors"]) == {"limit", "from", "colour"}
    assert problem["errors"]["limit"] == ["given 3 times; give it once"]


def test_several_bad_parameters_are_reported_together(client):
    problem = assert_problem(client.get(f"{OBS}?limit=0&colour=red&from=x"), 400)
    assert set(problem["errors"]) == {"limit", "colour", "from"}


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/v1/datasets?page=2", "page"),
        ("/api/v1/datasets/demo?lang=fr", "lang"),
        ("/api/v1/regions?level=city", "level"),
        ("/api/v1/regions?parent=12.34", "parent"),
        ("/api/v1/regions/6371?children=1", "children"),
    ],
)
def test_other_endpoints_refuse_bad_parameters_too(client, url, param):
    problem = assert_problem(client.get(url), 400)
    assert list(problem["errors"]) == [param]


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/datasets/nope",
        "/api/v1/datasets/nope/observations",
        "/api/v1/datasets/nope/observations.csv",
        "/api/v1/regions/9998",
        "/api/v1/regions/63.99",
        "/api/v1/datasets/a%00b",
        "/api/v1/datasets/a%00b/observations.csv",
        "/api/v1/regions/63%00",
    ],
)
def test_an_unknown_dataset_or_region_in_the_path_is_a_404(client, url):
    problem = assert_problem(client.get(url), 404)
    assert "errors" not in problem


def test_an_unknown_dataset_404_names_the_known_ones(client):
    assert "demo" in client.get("/api/v1/datasets/nope").get_json()["detail"]


@pytest.mark.parametrize(
    "url", ["/nope", "/api/v2/datasets", "/api/v1/datasets/demo/observations/x"]
)
def test_an_unknown_route_is_a_404_problem(client, url):
    assert "/api/v1" in assert_problem(client.get(url), 404)["detail"]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/datasets"),
        ("delete", "/api/v1/datasets/demo"),
        ("put", "/api/v1/datasets/demo/observations"),
        ("patch", "/api/v1/regions/6371"),
        ("post", "/healthz"),
    ],
)
def test_a_wrong_method_is_a_405_with_allow(client, method, url):
    response = getattr(client, method)(url)
    problem = assert_problem(response, 405)
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed == {"GET", "HEAD", "OPTIONS"}
    assert "GET" in problem["detail"]


def test_an_unexpected_failure_is_a_500_problem(store, make_app, monkeypatch):
    from opendata.store import queries

    app = make_app(TESTING=False)

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(queries, "list_datasets", broken)
    problem = assert_problem(app.test_client().get("/api/v1/datasets"), 500)
    assert "boom" not in problem["detail"]
