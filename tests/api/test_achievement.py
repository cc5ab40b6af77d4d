"""The achievement of plan targets: JSON pages, the figures, units, missing actuals, links."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from tests.api import target_stores as ts

URL = "/api/v1/datasets/tpt-target/achievement"


@pytest.fixture
def client(engine, make_app):
    ts.write_tpt(engine)
    ts.write_tpt_target(engine)
    return make_app().test_client()


def _by_period(page):
    return {(item["region"]["code"], item["period"]): item for item in page["data"]}


def test_the_issue_example(client):
    response = client.get(f"{URL}?region=6300&from=2024&to=2024")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert '"target":{"low":6.0,"high":6.9}' in text and '"achievement":151.32' in text
    assert json.loads(text) == {
        "data": [
            {
                "region": {"code": "6300", "name": "Provinsi Kalimantan Selatan"},
                "period": "2024",
                "dimensions": {},
                "target": {"low": 6.0, "high": 6.9},
                "actual": 4.56,
                "actual_period": "2024-08",
                "unit": "Persen",
                "better": "lower",
                "achieved": True,
                "achievement": 151.32,
                "target_unit": "%",
                "target_flag": None,
                "target_note": None,
                "actual_flag": None,
                "actual_note": None,
            }
        ],
        "next": None,
        "warnings": [],
    }
    assert "ETag" in response.headers


def test_every_target_with_its_actual(client):
    page = client.get(URL).get_json(force=True)
    got = {
        key: (item["target"], item["actual"], item["actual_period"], item["achievement"])
        for key, item in _by_period(page).items()
    }
    assert got == {
        ("6300", "2023"): ({"low": 5.0, "high": 5.0}, 4.31, "2023-08", 116.01),
        ("6300", "2024"): ({"low": 6.0, "high": 6.9}, 4.56, "2024-08", 151.32),
        # a descending range has the same ends; lower is better: met at the high end
        ("6300", "2025"): ({"low": 0.18, "high": 0.22}, 0.20, "2025-08", 110.00),
        ("6300", "2026"): ({"low": 4.0, "high": 4.5}, None, None, None),
        # the August figure is flagged: February is the latest figure of the year
        ("6371", "2024"): ({"low": 4.20, "high": 4.20}, 4.00, "2024-02", 105.00),
    }
    assert page["warnings"] == []


def test_achievement_has_exactly_two_decimals_and_values_their_digits(client):
    text = client.get(f"{URL}?region=6371").get_data(as_text=True)
    assert '"low":4.20,"high":4.20' in text
    assert '"actual":4.00' in text and '"achievement":105.00' in text
    page = json.loads(text, parse_float=Decimal)
    assert str(page["data"][0]["achievement"]) == "105.00"


def test_a_future_target_has_no_actual(client):
    [item] = client.get(f"{URL}?from=2026").get_json()["data"]
    assert (item["actual"], item["actual_period"], item["achieved"], item["achievement"]) == (
        None,
        None,
        None,
        None,
    )
    assert (item["unit"], item["better"]) == ("Persen", "lower")


def test_better_per_value_of_a_dimension_lower_and_higher(engine, make_app):
    """The LKjIP 2014 growth (higher) and unemployment (lower) figures, matched by indikator."""
    ts.write_makro(engine)
    page = make_app().test_client().get("/api/v1/datasets/makro-target/achievement").get_json()
    got = {
        item["dimensions"]["indikator"]["code"]: (
            item["better"],
            item["actual"],
            item["achieved"],
            item["achievement"],
        )
        for item in page["data"]
    }
    assert got == {"pe": ("higher", 4.85, False, 80.83), "tpt": ("lower", 4.03, True, 161.29)}
    assert page["data"][0]["dimensions"]["indikator"] == {
        "code": "pe",
        "label": "Pertumbuhan ekonomi",
    }


def test_a_scale_converts_the_target_into_the_actual_unit(engine, make_app):
    ts.write_tpt(engine, unit="Rupiah", cells={("6300", "2014"): "9674468.00"})
    target = {**ts.TPT_TARGET, "better": "higher", "scale": 1000000}
    ts.write(
        engine,
        ts.spec("tpt-target", target),
        ts.result(ts.Indicator("T1", "PDRB", unit="Juta Rupiah"), {("6300", "2014"): "9.2"}),
    )
    client = make_app().test_client()
    response = client.get(URL)
    assert '"target":{"low":9200000.0,"high":9200000.0}' in response.get_data(as_text=True)
    [item] = response.get_json()["data"]
    assert (item["unit"], item["target_unit"], item["achievement"]) == (
        "Rupiah",
        "Juta Rupiah",
        105.16,
    )
    assert response.get_json()["warnings"] == []


def test_units_that_differ_without_a_scale_are_not_compared(engine, make_app):
    ts.write_tpt(engine, unit="Rupiah", cells={("6300", "2014"): "9674468.00"})
    ts.write(
        engine,
        ts.spec("tpt-target", {**ts.TPT_TARGET, "better": "higher"}),
        ts.result(ts.Indicator("T1", "PDRB", unit="Juta Rupiah"), {("6300", "2014"): "9.2"}),
    )
    response = make_app().test_client().get(URL)
    page = response.get_json()
    [item] = page["data"]
    assert (item["target"], item["actual"]) == ({"low": 9.2, "high": 9.2}, 9674468.00)
    assert (item["achieved"], item["achievement"]) == (None, None)
    [warning] = page["warnings"]
    assert "'Juta Rupiah'" in warning and "'Rupiah'" in warning
    assert "declare target.scale" in warning
    assert "declare target.scale" in response.headers["Opendata-Warnings"]


def test_a_target_whose_actual_dataset_is_harvested_later(engine, make_app):
    ts.write_tpt_target(engine)
    client = make_app().test_client()
    before = client.get(f"{URL}?region=6300&from=2024&to=2024")
    assert before.status_code == 200
    [item] = before.get_json()["data"]
    assert (item["actual"], item["achieved"], item["achievement"]) == (None, None, None)
    assert (item["target"], item["unit"]) == ({"low": 6.0, "high": 6.9}, "%")
    [warning] = before.get_json()["warnings"]
    assert "tpt, which has not been harvested yet" in warning
    assert "not been harvested" in before.headers["Opendata-Warnings"]

    ts.write_tpt(engine)
    after = client.get(
        f"{URL}?region=6300&from=2024&to=2024", headers={"If-None-Match": before.headers["ETag"]}
    )
    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    [item] = after.get_json()["data"]
    assert (item["actual"], item["achieved"], item["achievement"]) == (4.56, True, 151.32)
    assert after.get_json()["warnings"] == []


def test_an_unchanged_store_answers_304(client):
    first = client.get(URL)
    again = client.get(URL, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def walk(client, url):
    items = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        if page["next"]:
            assert response.headers["Link"] == f'<{page["next"]}>; rel="next"'
        items += page["data"]
        url = page["next"]
    return items


@pytest.mark.parametrize("query", ["", "region=6300", "from=2024&to=2025", "region=63&from=2025"])
def test_pages_hold_the_unpaged_rows_in_the_order_of_observations(client, query):
    whole = client.get(f"{URL}?{query}").get_json()["data"]
    assert walk(client, f"{URL}?{query}&limit=1") == whole
    assert walk(client, f"{URL}?{query}&limit=2") == whole
    observations = client.get(f"/api/v1/datasets/tpt-target/observations?{query}").get_json()
    assert [(i["region"], i["period"]) for i in whole] == [
        (o["region"], o["period"]) for o in observations["data"]
    ]


def test_filters_as_on_observations(client):
    keys = list(_by_period(client.get(f"{URL}?region=63.71,6300&from=2024&to=2025").get_json()))
    assert keys == [("6300", "2024"), ("6300", "2025"), ("6371", "2024")]


def test_a_cursor_belongs_to_its_filters(client):
    first = client.get(f"{URL}?region=6300&limit=1").get_json()
    cursor = first["next"].rsplit("cursor=", 1)[1]
    other = client.get(f"{URL}?region=6371&limit=1&cursor={cursor}")
    assert other.status_code == 400
    assert "cursor" in other.get_json()["errors"]


@pytest.mark.parametrize(
    ("query", "param"),
    [
        ("dim.indikator=pe", "dim.indikator"),
        ("region=9999", "region"),
        ("from=2025&to=2024", "from"),
    ],
)
def test_bad_parameters_are_400s(client, query, param):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert param in response.get_json()["errors"]


def test_a_requested_region_without_targets_is_a_warning(client):
    page = client.get(f"{URL}?region=6372").get_json()
    assert page["data"] == []
    assert page["warnings"] == ["region 6372 (Kota Banjarbaru) has no observations in tpt-target"]


def test_an_unknown_dataset_is_a_404(client):
    response = client.get("/api/v1/datasets/nope/achievement")
    assert response.status_code == 404
    assert "no dataset 'nope' has been harvested" in response.get_json()["detail"]


@pytest.mark.parametrize("path", ["achievement", "achievement.csv"])
def test_a_dataset_that_holds_no_targets_is_a_404_that_says_where_to_look(client, path):
    response = client.get(f"/api/v1/datasets/tpt/{path}")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    detail = response.get_json()["detail"]
    assert "tpt holds no plan targets" in detail
    assert "/api/v1/datasets/tpt/observations" in detail
    assert "/api/v1/datasets/tpt-target/achievement" in detail
