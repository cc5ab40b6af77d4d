"""``within`` and ``level``: the regions under a region, at any depth, in either code system."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.api.test_observations import walk

URL = "/api/v1/datasets/demo/observations"


def regions_of(client, query: str) -> list[str]:
    observations, _sizes = walk(client, f"{URL}?{query}&limit=3")
    return list(dict.fromkeys(o["region"]["code"] for o in observations))


@pytest.mark.parametrize(
    ("query", "regions"),
    [
        ("within=6300", ["6371", "6371010", "6372"]),  # any depth, not the province itself
        ("within=63", ["6371", "6371010", "6372"]),  # its Kemendagri code
        ("within=6371", ["6371010"]),  # a district a harvest added
        ("within=6300&level=regency", ["6371", "6372"]),
        ("within=63&level=district", ["6371010"]),
        ("region=6300&within=6300", ["6300", "6371", "6371010", "6372"]),
        ("region=6300&within=6300&level=regency", ["6300", "6371", "6372"]),
        ("region=6371010&within=63.71", ["6371010"]),  # a region both asked and under
        ("within=0000&level=province", ["6300"]),
        ("level=regency", ["6371", "6372"]),  # without within: every region of the level
        ("level=province&region=6371", ["6300", "6371"]),  # region codes kept, any level
        ("within=6371,6372", ["6371010"]),  # several: the regions under each
        ("within=6300&within=6371&level=district", ["6371010"]),
    ],
)
def test_within_and_level_serve_the_regions_under(client, query, regions):
    assert regions_of(client, query) == regions


def test_within_combines_with_the_other_filters(client):
    page = client.get(f"{URL}?within=6300&from=2024-Q1&to=2024-Q1").get_json()
    assert [(o["region"]["code"], o["period"]) for o in page["data"]] == [
        ("6371", "2024-Q1"),
        ("6372", "2024-01"),
        ("6372", "2024-Q1"),
    ]
    assert page["warnings"] == []


def test_within_a_region_without_regions_under_it_is_empty_with_a_warning(client):
    response = client.get(f"{URL}?within=6371010")
    page = response.get_json()
    assert response.status_code == 200
    assert page["data"] == []
    assert page["warnings"] == ["no region is under 6371010 (Banjarmasin Selatan)"]
    assert "no region is under 6371010" in response.headers["Opendata-Warnings"]


def test_within_regions_without_data_are_a_warning_but_not_each_of_them(client):
    # 11 more kabupaten are under 6300 in the reference; one warning says none of 6200's has data
    page = client.get(f"{URL}?within=6200").get_json()
    assert page["data"] == []
    assert page["warnings"] == ["no region under 6200 (Kalimantan Tengah) has observations in demo"]
    page = client.get(f"{URL}?within=6300&level=province").get_json()
    assert page["warnings"] == [
        "no region at level province is under 6300 (Provinsi Kalimantan Selatan)"
    ]
    page = client.get(f"{URL}?within=6300").get_json()
    assert page["warnings"] == []  # the regions without data among many with: no warning


@pytest.mark.parametrize(
    ("query", "param", "words"),
    [
        ("within=9998", "within", "no region has the code '9998'"),
        ("within=", "within", "empty"),
        ("within=6300,", "within", "empty"),
        ("level=kota", "level", "country, province, regency, district"),
        ("level=", "level", "empty"),
    ],
)
def test_a_bad_within_or_level_is_a_400_naming_it(client, query, param, words):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400
    problem = response.get_json()
    assert param in str(problem["errors"]) or param in problem["detail"]
    assert words in str(problem)


def test_the_cursor_is_bound_to_within_and_level(client):
    first = client.get(f"{URL}?within=6300&limit=2").get_json()
    cursor = first["next"].split("cursor=")[1]
    assert client.get(f"{URL}?within=6300&limit=2&cursor={cursor}").status_code == 200
    assert client.get(f"{URL}?within=6300&level=regency&cursor={cursor}").status_code == 400
    assert client.get(f"{URL}?limit=2&cursor={cursor}").status_code == 400


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".jsonstat"])
def test_within_works_on_every_format(client, suffix):
    response = client.get(f"{URL}{suffix}?within=63&level=regency")
    assert response.status_code == 200
    if suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert {r["region_code"] for r in rows} == {"6371", "6372"}
    elif suffix == ".jsonstat":
        index = response.get_json()["dimension"]["region"]["category"]["index"]
        assert set(index) == {"6371", "6372"}


def test_within_works_with_as_of(client):
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    response = client.get(URL, query_string={"within": "6300", "level": "regency", "as_of": now})
    page = response.get_json()
    assert page["as_of"] is not None
    assert {o["region"]["code"] for o in page["data"]} == {"6371", "6372"}
