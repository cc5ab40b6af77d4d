"""Query input is read exactly: whole-value matches, no empty filter, ASCII integers."""

from __future__ import annotations

import pytest

from tests.api.test_errors import assert_problem

OBS = "/api/v1/datasets/demo/observations"


@pytest.mark.parametrize("suffix", ["", ".csv"], ids=["json", "csv"])
@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("from=2024%0A", "from"),
        ("to=2024-Q1%0A", "to"),
        ("from=%0A2024", "from"),
        ("from=2024%0D%0AX-Evil:%201", "from"),
        ("from=%202024", "from"),
        ("to=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%94", "to"),  # fullwidth 2024
    ],
)
def test_a_period_must_match_whole(client, suffix, query, param):
    response = client.get(f"{OBS}{suffix}?{query}")
    problem = assert_problem(response, 400)
    assert list(problem["errors"]) == [param]
    assert "Content-Disposition" not in response.headers


def test_the_csv_file_name_is_built_from_parsed_values(client):
    response = client.get(f"{OBS}.csv?region=63.71&from=2024-Q1&to=2024")
    name = 'attachment; filename="demo_6371_from-2024-Q1_to-2024.csv"'
    assert response.headers["Content-Disposition"] == name


@pytest.mark.parametrize("suffix", ["", ".csv"], ids=["json", "csv"])
@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("region=", "region"),
        ("region=,", "region"),
        ("region=%20", "region"),
        ("region=6371,", "region"),
        ("region=6371&region=", "region"),
        ("from=", "from"),
        ("to=", "to"),
        ("to=%20", "to"),
        ("dim.jenis_kelamin=", "dim.jenis_kelamin"),
        ("dim.jenis_kelamin=,", "dim.jenis_kelamin"),
        ("dim.jenis_kelamin=1,", "dim.jenis_kelamin"),
    ],
)
def test_an_empty_filter_is_a_400_saying_what_to_give(client, suffix, query, param):
    problem = assert_problem(client.get(f"{OBS}{suffix}?{query}"), 400)
    assert list(problem["errors"]) == [param]
    [message] = problem["errors"][param]
    assert "empty" in message
    assert "leave" in message and param.split(".")[0] in message  # how to do without it


@pytest.mark.parametrize("query", ["cursor=", "limit=", "limit=%20"])
def test_an_empty_page_parameter_is_a_400(client, query):
    problem = assert_problem(client.get(f"{OBS}?{query}"), 400)
    [param] = problem["errors"]
    assert "empty" in problem["errors"][param][0]


@pytest.mark.parametrize("query", ["parent=", "parent=%20", "level="])
def test_an_empty_region_filter_is_a_400(client, query):
    problem = assert_problem(client.get(f"/api/v1/regions?{query}"), 400)
    [param] = problem["errors"]
    assert "empty" in problem["errors"][param][0]


@pytest.mark.parametrize(
    "limit",
    [
        "%2B5",  # +5
        "%205",  # " 5"
        "5%20",
        "5%0A",
        "%D9%A1%D9%A0",  # Arabic-Indic 10
        "%EF%BC%95",  # fullwidth 5
        "1_0",
        "5.0",
        "-5",
        "0x10",
    ],
)
def test_limit_takes_ascii_digits_only(client, limit):
    problem = assert_problem(client.get(f"{OBS}?limit={limit}"), 400)
    assert list(problem["errors"]) == ["limit"]
    assert "digits" in problem["errors"]["limit"][0]


@pytest.mark.parametrize("limit", ["1", "007", "10000"])
def test_limit_of_plain_digits_is_read(client, limit):
    response = client.get(f"{OBS}?limit={limit}")
    assert response.status_code == 200
    assert len(response.get_json()["data"]) == min(int(limit), 12)


def test_a_huge_limit_is_over_the_maximum_not_an_error_of_ours(client):
    problem = assert_problem(client.get(f"{OBS}?limit={'9' * 5000}"), 400)
    assert problem["errors"]["limit"] == ["at most 10000 observations per page"]


def test_the_spec_says_limit_is_ascii_digits(client):
    spec = client.get("/openapi.json").get_json()
    [limit] = [
        p
        for p in spec["paths"]["/api/v1/datasets/{dataset_id}/observations"]["get"]["parameters"]
        if p.get("name") == "limit"
    ]
    assert limit["schema"]["type"] == "integer"
    assert "ASCII digits" in limit["description"]
