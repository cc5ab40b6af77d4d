"""Observations as JSON: exact values, filters in any code system and as intervals, paging."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.api.conftest import CELLS, harvest

URL = "/api/v1/datasets/demo/observations"


def walk(client, url):
    """Every observation of ``url``, following the Link header; and the pages' sizes."""
    observations, sizes = [], []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        link = response.headers.get("Link")
        if page["next"]:
            assert link == f'<{page["next"]}>; rel="next"'
        else:
            assert link is None
        observations += page["data"]
        sizes.append(len(page["data"]))
        url = page["next"]
    return observations, sizes


def keys(observations):
    return [
        (o["region"]["code"], o["period"], o["dimensions"]["jenis_kelamin"]["code"])
        for o in observations
    ]


def test_values_are_json_numbers_with_the_digits_the_source_sent(client):
    response = client.get(f"{URL}?limit=100")
    text = response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    for literal in ('"value":7.10', '"value":-0.47', '"value":683244', '"value":null'):
        assert literal in text
    assert '"value":0.000000000000000000012345678901234567' in text
    page = json.loads(text, parse_float=Decimal)
    assert page["next"] is None
    got = {key: o["value"] for key, o in zip(keys(page["data"]), page["data"], strict=True)}
    assert got == {key: None if v is None else Decimal(v) for key, v in CELLS.items()}


def test_an_observation_has_the_documented_shape(client):
    page = client.get(f"{URL}?region=6371&from=2024-08&to=2024-08&dim.jenis_kelamin=1").get_json()
    assert page == {
        "data": [
            {
                "region": {"code": "6371", "name": "Kota Banjarmasin"},
                "period": "2024-08",
                "dimensions": {"jenis_kelamin": {"code": "1", "label": "Laki-laki"}},
                "value": 4.02,
                "unit": "Jiwa",
                "flag": None,
                "note": None,
            }
        ],
        "next": None,
        "warnings": [],
    }


def test_order_is_region_then_series_then_period(client):
    got = keys(client.get(f"{URL}?region=6371").get_json()["data"])
    assert got == [
        ("6371", "2024-Q1", "1"),
        ("6371", "2024", "1"),
        ("6371", "2024-Q3", "1"),
        ("6371", "2024-S2", "1"),
        ("6371", "2024-08", "1"),
        ("6371", "2024-08", "2"),
    ]
    everything = keys(client.get(URL).get_json()["data"])
    assert [k[0] for k in everything] == sorted(k[0] for k in everything)


@pytest.mark.parametrize(
    ("regions", "expected"),
    [
        ("6371", {"6371"}),
        ("63.71", {"6371"}),
        ("63.71,6372", {"6371", "6372"}),
        ("63", {"6300"}),
        ("6300,63.72", {"6300", "6372"}),
        ("6371010", {"6371010"}),
    ],
)
def test_region_filter_takes_codes_of_any_system(client, regions, expected):
    observations = client.get(f"{URL}?region={regions}").get_json()["data"]
    assert {o["region"]["code"] for o in observations} == expected
    assert len(observations) == sum(1 for key in CELLS if key[0] in expected)


@pytest.mark.parametrize(
    ("query", "periods"),
    [
        ("from=2024-03", {"2024-08", "2024-Q3", "2024-S2"}),
        ("from=2024-Q3", {"2024-08", "2024-Q3", "2024-S2"}),
        ("to=2024-Q1", {"2023", "2024-01", "2024-Q1"}),
        ("to=2024-S1", {"2023", "2024-01", "2024-Q1"}),
        ("from=2024&to=2024", {"2024", "2024-01", "2024-08", "2024-Q1", "2024-Q3", "2024-S2"}),
        ("from=2024-S2&to=2024-Q3", {"2024-08", "2024-Q3"}),
        ("to=2023", {"2023"}),
    ],
)
def test_from_and_to_compare_periods_as_date_intervals(client, query, periods):
    observations = client.get(f"{URL}?{query}").get_json()["data"]
    assert {o["period"] for o in observations} == periods


def test_dimension_filters(client):
    women = client.get(f"{URL}?dim.jenis_kelamin=2").get_json()["data"]
    assert {k for k in keys(women)} == {k for k in CELLS if k[2] == "2"}
    by_sex = client.get(f"{URL}?dim.jenis_kelamin=1,2&region=6371").get_json()["data"]
    assert {k for k in keys(by_sex)} == {k for k in CELLS if k[2] in "12" and k[0] == "6371"}
    repeated = client.get(f"{URL}?dim.jenis_kelamin=1&dim.jenis_kelamin=2&region=6371")
    assert repeated.get_json()["data"] == by_sex


@pytest.mark.parametrize("query", ["", "region=6371,6372&", "dim.jenis_kelamin=1,3&from=2024&"])
@pytest.mark.parametrize("limit", [1, 3, 5])
def test_pages_walked_by_their_links_hold_the_unpaged_rows(client, query, limit):
    everything = client.get(f"{URL}?{query}limit=100").get_json()["data"]
    paged, sizes = walk(client, f"{URL}?{query}limit={limit}")
    assert paged == everything
    assert all(size == limit for size in sizes[:-1]) and 0 < sizes[-1] <= limit


def test_the_page_size_may_change_between_pages(client):
    first = client.get(f"{URL}?limit=4").get_json()
    rest, _ = walk(client, first["next"].replace("limit=4", "limit=3"))
    assert first["data"] + rest == client.get(URL).get_json()["data"]


def test_default_and_maximum_page_size_come_from_the_settings(store, make_app):
    client = make_app(PAGE_SIZE=5, MAX_PAGE_SIZE=7).test_client()
    first = client.get(URL).get_json()
    assert len(first["data"]) == 5 and first["next"]
    assert len(client.get(f"{URL}?limit=7").get_json()["data"]) == 7
    assert client.get(f"{URL}?limit=8").status_code == 400
    parameters = client.get("/openapi.json").get_json()["paths"][
        "/api/v1/datasets/{dataset_id}/observations"
    ]["get"]["parameters"]
    limit = next(p for p in parameters if p.get("name") == "limit")
    assert (limit["schema"]["default"], limit["schema"]["maximum"]) == (5, 7)


def test_a_dataset_without_matching_rows_gives_an_empty_page(client):
    page = client.get(f"{URL}?region=6371&from=2030").get_json()
    assert page == {"data": [], "next": None, "warnings": []}


@pytest.mark.parametrize(
    ("repeated", "listed"),
    [
        ("region=6300&region=6371", "region=6300,6371"),
        ("region=63&region=63.71,6372", "region=6300,6371,6372"),
        ("region=6371&region=6371", "region=6371"),
    ],
)
def test_a_repeated_region_adds_codes_like_a_comma_list(client, repeated, listed):
    got = client.get(f"{URL}?{repeated}&limit=100")
    assert got.status_code == 200, got.get_json()
    expected = client.get(f"{URL}?{listed}&limit=100").get_json()["data"]
    assert got.get_json()["data"] == expected
    regions = set(listed.removeprefix("region=").split(","))
    assert len(expected) == sum(1 for key in CELLS if key[0] in regions)


def test_a_repeated_dimension_adds_codes_like_a_comma_list(client):
    repeated = client.get(f"{URL}?dim.jenis_kelamin=1&dim.jenis_kelamin=2,3").get_json()["data"]
    assert repeated == client.get(f"{URL}?dim.jenis_kelamin=1,2,3").get_json()["data"]
    assert len(repeated) == len(CELLS)


def test_pages_of_repeated_parameters_keep_them_and_their_cursor_fits_a_comma_list(client):
    everything = client.get(f"{URL}?region=6371,6372&limit=100").get_json()["data"]
    paged, _sizes = walk(client, f"{URL}?region=6371&region=6372&limit=2")
    assert paged == everything
    first = client.get(f"{URL}?region=6371&region=6372&limit=2").get_json()
    assert "region=6371&region=6372" in first["next"]
    cursor = first["next"].rsplit("cursor=", 1)[1]
    second = client.get(f"{URL}?region=6371,6372&limit=2&cursor={cursor}").get_json()
    assert first["data"] + second["data"] == everything[:4]


NO_DATA = "region 6301 (Kabupaten Tanah Laut) has no observations in demo"


def test_a_requested_region_without_any_data_is_a_warning(client):
    response = client.get(f"{URL}?region=63.01,6371&limit=100")
    page = response.get_json()
    assert {o["region"]["code"] for o in page["data"]} == {"6371"}
    assert page["warnings"] == [NO_DATA]
    assert response.headers["Opendata-Warnings"] == f'"{NO_DATA}"'


@pytest.mark.parametrize(
    "query",
    ["", "region=6371", "region=6371&from=2030", "region=6300&dim.jenis_kelamin=1", "limit=1"],
)
def test_no_warning_for_regions_with_data_even_when_the_filters_leave_none(client, query):
    response = client.get(f"{URL}?{query}")
    assert response.get_json()["warnings"] == []
    assert "Opendata-Warnings" not in response.headers


def test_every_page_carries_the_warnings_and_the_spec_documents_them(client):
    next_url = client.get(f"{URL}?region=6301,6372,6302&limit=1").get_json()["next"]
    page = client.get(next_url).get_json()
    assert page["warnings"] == [
        NO_DATA,
        "region 6302 (Kabupaten Kotabaru) has no observations in demo",
    ]
    spec = client.get("/openapi.json").get_json()
    assert "warnings" in spec["components"]["schemas"]["ObservationPage"]["required"]
    for path in ("observations", "observations.csv"):
        operation = spec["paths"][f"/api/v1/datasets/{{dataset_id}}/{path}"]["get"]
        assert "Opendata-Warnings" in operation["responses"]["200"]["headers"]


def test_a_region_whose_figures_were_all_withdrawn_is_a_warning(store, client):
    cells = {k: v for k, v in CELLS.items() if k[0] != "6372"}
    cells.update({("6300", "2024-01", "3"): "1", ("6300", "2024-Q1", "3"): "1"})
    assert harvest(store, cells).withdrawn == 3  # 6372's cells, in periods still published
    page = client.get(f"{URL}?region=6372").get_json()
    assert page["data"] == []
    assert page["warnings"] == ["region 6372 (Kota Banjarbaru) has no observations in demo"]


def test_the_warnings_header_stays_small_enough_for_a_proxy(app):
    from flask import Response

    from opendata.api.observations import MAX_WARNINGS_HEADER, warn_header

    warnings = [
        f"region {code} (Somewhere long enough to matter) has no data" for code in range(300)
    ]
    with app.test_request_context():
        header = warn_header(Response(), warnings).headers["Opendata-Warnings"]
    assert len(header) < MAX_WARNINGS_HEADER + 100
    assert (
        header.startswith('"region 0 (')
        and "more warning(s): see the warnings of the JSON" in header
    )
