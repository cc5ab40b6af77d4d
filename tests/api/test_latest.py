"""``latest=N``: the last N periods of each series and frequency, after the other filters."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from tests.api.conftest import CELLS, harvest
from tests.api.test_observations import keys, walk

URL = "/api/v1/datasets/demo/observations"

#: latest=1 of the demo: each series' last period of each frequency
LATEST_1 = [
    ("6300", "2024", "3"),
    ("6371", "2024-08", "1"),
    ("6371", "2024-Q3", "1"),
    ("6371", "2024-S2", "1"),
    ("6371", "2024", "1"),  # a missing value (flag M) is a period too
    ("6371", "2024-08", "2"),
    ("6371010", "2024", "3"),
    ("6372", "2024-01", "2"),
    ("6372", "2024-Q1", "2"),
    ("6372", "2023", "3"),
]


def test_latest_1_is_each_series_last_period_of_each_frequency(client):
    page = client.get(f"{URL}?latest=1").get_json()
    assert sorted(keys(page["data"])) == sorted(LATEST_1)
    assert page["warnings"] == []


def test_latest_keeps_the_stable_order(client):
    everything = keys(client.get(f"{URL}?limit=100").get_json()["data"])
    latest = keys(client.get(f"{URL}?latest=1").get_json()["data"])
    assert latest == [key for key in everything if key in latest]


def test_latest_2_keeps_two_periods_of_a_frequency(client):
    page = client.get(f"{URL}?latest=2&region=6371,6300").get_json()
    assert sorted(keys(page["data"])) == sorted(
        [
            ("6300", "2023", "3"),
            ("6300", "2024", "3"),
            ("6371", "2024-Q1", "1"),  # the quarters: Q1 and Q3
            ("6371", "2024", "1"),
            ("6371", "2024-08", "1"),
            ("6371", "2024-Q3", "1"),
            ("6371", "2024-S2", "1"),
            ("6371", "2024-08", "2"),
        ]
    )


def test_latest_applies_after_from_and_to(client):
    page = client.get(f"{URL}?latest=1&to=2023").get_json()
    assert keys(page["data"]) == [("6300", "2023", "3"), ("6372", "2023", "3")]
    page = client.get(f"{URL}?latest=1&to=2024-Q1&dim.jenis_kelamin=1").get_json()
    assert keys(page["data"]) == [("6371", "2024-Q1", "1")]


def test_latest_combines_with_within_and_level(client):
    page = client.get(f"{URL}?latest=1&within=63&level=regency&dim.jenis_kelamin=2").get_json()
    assert keys(page["data"]) == [
        ("6371", "2024-08", "2"),
        ("6372", "2024-01", "2"),
        ("6372", "2024-Q1", "2"),
    ]


@pytest.mark.parametrize("limit", [1, 2, 3, 7])
def test_pages_of_latest_hold_the_unpaged_rows(client, limit):
    unpaged = keys(client.get(f"{URL}?latest=1").get_json()["data"])
    observations, sizes = walk(client, f"{URL}?latest=1&limit={limit}")
    assert keys(observations) == unpaged
    assert all(size == limit for size in sizes[:-1])


def test_a_new_period_moves_latest_and_the_cursor_of_latest_is_bound_to_it(store, client):
    first = client.get(f"{URL}?latest=1&limit=2").get_json()
    cursor = first["next"].split("cursor=")[1]
    assert client.get(f"{URL}?latest=2&limit=2&cursor={cursor}").status_code == 400
    assert client.get(f"{URL}?limit=2&cursor={cursor}").status_code == 400
    harvest(store, {**CELLS, ("6300", "2025", "3"): "700000"})
    page = client.get(f"{URL}?latest=1&region=6300").get_json()
    assert [(o["period"], o["value"]) for o in page["data"]] == [("2025", 700000)]


@pytest.mark.parametrize(
    ("value", "words"),
    [("0", "greater than or equal to 1"), ("1201", "at most 1200"), ("", "empty"), ("x", "whole")],
)
def test_a_bad_latest_is_a_400_naming_it(client, value, words):
    response = client.get(f"{URL}?latest={value}")
    assert response.status_code == 400
    problem = response.get_json()
    assert words in problem["errors"]["latest"][0].lower()
    assert "latest" in problem["detail"]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".jsonstat"])
def test_latest_works_on_every_format(client, suffix):
    response = client.get(f"{URL}{suffix}?latest=1&region=6300")
    assert response.status_code == 200
    if suffix == ".csv":
        rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert [(r["period"], r["value"]) for r in rows] == [("2024", "690000")]
    elif suffix == ".jsonstat":
        index = response.get_json()["dimension"]["period"]["category"]["index"]
        assert list(index) == ["2024"]


def test_latest_with_as_of_ranks_the_periods_of_that_instant(store, client):
    then = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    harvest(store, {**CELLS, ("6300", "2025", "3"): "700000"})
    response = client.get(URL, query_string={"latest": "1", "region": "6300", "as_of": then})
    assert [o["period"] for o in response.get_json()["data"]] == ["2024"]
    response = client.get(f"{URL}.csv", query_string={"latest": "1", "region": "6300"})
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [(r["period"], r["value"]) for r in rows] == [("2025", "700000")]


@pytest.mark.parametrize(
    "query", ["latest=1", "within=6300&level=regency", "latest=1&level=province"]
)
def test_achievement_takes_latest_within_and_level_as_observations_do(engine, make_app, query):
    from tests.api import target_stores as ts

    ts.write_tpt(engine)
    ts.write_tpt_target(engine)
    client = make_app().test_client()
    targets = client.get(f"/api/v1/datasets/tpt-target/observations?{query}").get_json()
    achievement = client.get(f"/api/v1/datasets/tpt-target/achievement?{query}").get_json()
    assert achievement["data"]  # the filters leave some
    assert [(i["region"], i["period"]) for i in achievement["data"]] == [
        (o["region"], o["period"]) for o in targets["data"]
    ]
    whole = client.get(f"/api/v1/datasets/tpt-target/achievement.csv?{query}")
    assert whole.get_data(as_text=True).count("\r\n") == len(achievement["data"]) + 1


def test_revisions_take_latest_and_within_as_observations_do(client):
    for query in ("latest=1", "within=6300&level=regency", "latest=2&region=6300"):
        cells = client.get(f"/api/v1/datasets/demo/revisions?{query}").get_json()["data"]
        observations = client.get(f"{URL}?{query}").get_json()["data"]
        assert [(c["region"], c["period"]) for c in cells] == [
            (o["region"], o["period"]) for o in observations
        ]
