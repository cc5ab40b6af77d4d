"""Every error is RFC 9457 problem+json; bad parameters are 400s naming the parameter."""

from __future__ import annotations

from datetime import date

import pytest

from opendata.api.cursor import encode_cursor, filters_digest
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


@pytest.mark.parametrize("series_id", [-1, 2**31, 2**70])
def test_a_forged_cursor_is_a_400_not_a_500(client, series_id):
    digest = filters_digest(ObservationQuery("demo"))
    forged = encode_cursor(("6371", series_id, date(1, 1, 1), date(9999, 12, 31)), digest)
    problem = assert_problem(client.get(f"{OBS}?cursor={forged}"), 400)
    assert list(problem["errors"]) == ["cursor"]


def test_several_bad_parameters_are_reported_together(client):
    problem = assert_problem(client.get(f"{OBS}?limit=0&colour=red&from=x"), 400)
    assert set(problem["errors"]) == {"limit", "colour", "from"}


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/v1/datasets?page=2", "page"),
        ("/api/v1/datasets/demo?lang=en", "lang"),
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


@pytest.mark.parametrize("url", ["/", "/api/v2/datasets", "/api/v1/datasets/demo/observations/x"])
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
