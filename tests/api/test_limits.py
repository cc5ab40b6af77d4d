"""The app's own request limits answer problem+json; echoed input is cut short in every error."""

from __future__ import annotations

import pytest

from tests.api.test_errors import assert_problem

OBS = "/api/v1/datasets/demo/observations"


@pytest.mark.parametrize("csv", [False, True], ids=["json", "csv"])
def test_a_url_over_the_limit_is_a_414_saying_to_split_it(client, csv):
    url = f"{OBS}.csv" if csv else OBS
    problem = assert_problem(client.get(f"{url}?region={','.join(['6371'] * 2000)}"), 414)
    assert "bytes long; this API reads URLs of up to 8000 bytes" in problem["detail"]
    assert "fewer codes" in problem["detail"] and "split" in problem["detail"]


def test_a_long_path_is_a_414_too(client):
    assert_problem(client.get("/api/v1/regions/" + "6" * 9000), 414)


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("region=" + ",".join(["63"] * 501), "region"),
        ("region=" + ",".join(["63"] * 300) + "&region=" + ",".join(["63"] * 201), "region"),
        ("dim.jenis_kelamin=" + ",".join(["1"] * 501), "dim.jenis_kelamin"),
    ],
)
def test_more_codes_than_allowed_is_a_400_naming_the_parameter(client, query, param):
    problem = assert_problem(client.get(f"{OBS}?{query}"), 400)
    assert problem["errors"] == {
        param: [
            "501 codes; at most 500 per request: split the request into several of 500 codes "
            "or fewer"
        ]
    }


def test_the_most_codes_allowed_are_served(client):
    response = client.get(f"{OBS}?region={','.join(['6371'] * 500)}")
    assert response.status_code == 200
    assert {o["region"]["code"] for o in response.get_json()["data"]} == {"6371"}


def test_the_limits_are_settings(store, make_app):
    client = make_app(MAX_CODES=2, MAX_URL_LENGTH=1024).test_client()
    problem = assert_problem(client.get(f"{OBS}?region=6371,6372,6300"), 400)
    assert list(problem["errors"]) == ["region"]
    problem = assert_problem(client.get(f"{OBS}?from=" + "2" * 1100), 414)
    assert "up to 1024 bytes" in problem["detail"]


JUNK = "x" * 100_000


@pytest.mark.parametrize(
    "url",
    [
        f"{OBS}?region={JUNK}",
        f"{OBS}?region=6371,{JUNK}",
        f"{OBS}?dim.{JUNK}=1",
        f"{OBS}?dim.jenis_kelamin={JUNK}",
        f"{OBS}?{JUNK}=1",
        f"/api/v1/datasets/{JUNK}",
        f"/api/v1/regions/{JUNK}",
        f"/api/v1/{JUNK}",
    ],
)
def test_echoed_input_is_cut_short(store, make_app, url):
    client = make_app(MAX_URL_LENGTH=200_000).test_client()
    response = client.get(url)
    assert response.status_code in (400, 404)
    assert response.mimetype == "application/problem+json"
    assert len(response.data) < 2000
    assert "x" * 200 not in response.get_data(as_text=True)
    assert "x…" in response.get_json()["detail"]


def test_a_wrong_method_on_a_long_path_is_cut_short(store, make_app):
    client = make_app(MAX_URL_LENGTH=200_000).test_client()
    response = client.post(f"/api/v1/datasets/{JUNK}/observations")
    problem = assert_problem(response, 405)
    assert len(problem["detail"]) < 400 and "…" in problem["detail"]
