"""The achievement as CSV, and the links between a target dataset and its actual dataset."""

from __future__ import annotations

import csv
import io

import pytest

from opendata.formats.achievement import header
from tests.api import target_stores as ts

CSV_URL = "/api/v1/datasets/tpt-target/achievement.csv"


@pytest.fixture
def client(engine, make_app):
    ts.write_tpt(engine)
    ts.write_tpt_target(engine)
    return make_app().test_client()


def _rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_csv_has_every_row_and_the_documented_columns(client):
    response = client.get(CSV_URL)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith(
        "region_code,region_name,period,target_low,target_high,actual,actual_period,unit,"
        "better,achieved,achievement,target_flag,target_note,actual_flag,actual_note\r\n"
    )
    assert (
        "6300,Provinsi Kalimantan Selatan,2024,6.0,6.9,4.56,2024-08,Persen,lower,true,151.32,,,,"
        "\r\n" in text
    )
    rows = _rows(response)
    assert [(r["region_code"], r["period"]) for r in rows] == [
        ("6300", "2023"),
        ("6300", "2024"),
        ("6300", "2025"),
        ("6300", "2026"),
        ("6371", "2024"),
    ]
    future = rows[3]
    assert (future["actual"], future["achieved"], future["achievement"]) == ("", "", "")
    json_page = client.get("/api/v1/datasets/tpt-target/achievement").get_json()["data"]
    assert [r["achievement"] for r in rows] == [
        "" if i["achievement"] is None else f"{i['achievement']:.2f}" for i in json_page
    ]
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="tpt-target_achievement.csv"'
    )
    assert "ETag" in response.headers and "Opendata-Warnings" not in response.headers


def test_the_csv_takes_the_filters_and_names_them(client):
    response = client.get(f"{CSV_URL}?region=63.71&from=2024&to=2024")
    assert [(r["region_code"], r["period"], r["achievement"]) for r in _rows(response)] == [
        ("6371", "2024", "105.00")
    ]
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="tpt-target_achievement_6371_from-2024_to-2024.csv"'
    )
    assert client.get(f"{CSV_URL}?limit=1").status_code == 400


def test_the_csv_has_the_dimensions_and_its_warnings_in_a_header(engine, make_app):
    ts.write_makro(engine)
    client = make_app().test_client()
    response = client.get("/api/v1/datasets/makro-target/achievement.csv")
    rows = _rows(response)
    assert list(rows[0])[:5] == [
        "region_code",
        "region_name",
        "period",
        "indikator_code",
        "indikator",
    ]
    assert [(r["indikator_code"], r["better"], r["achievement"]) for r in rows] == [
        ("pe", "higher", "80.83"),
        ("tpt", "lower", "161.29"),
    ]
    warned = client.get(f"{CSV_URL.replace('tpt-target', 'makro-target')}?region=6371")
    assert warned.headers["Opendata-Warnings"] == (
        '"region 6371 (Kota Banjarmasin) has no observations in makro-target"'
    )


def test_a_dimension_id_that_is_a_column_gets_other_columns():
    assert header(["actual", "sektor"]) == [
        "region_code",
        "region_name",
        "period",
        "actual_dim_code",
        "actual_dim",
        "sektor_code",
        "sektor",
        "target_low",
        "target_high",
        "actual",
        "actual_period",
        "unit",
        "better",
        "achieved",
        "achievement",
        "target_flag",
        "target_note",
        "actual_flag",
        "actual_note",
    ]


def test_a_target_dataset_links_to_its_actual_dataset_and_its_achievement(client):
    target = client.get("/api/v1/datasets/tpt-target").get_json()
    assert target["target"] == {
        "of": {"dataset": "tpt", "indicator": None, "dimensions": {}},
        "better": "lower",
        "better_by": None,
        "document": "RPJMD 2021-2026",
        "scale": None,
        "links": {
            "actual": "/api/v1/datasets/tpt",
            "achievement": "/api/v1/datasets/tpt-target/achievement",
        },
    }
    assert target["targets"] == []
    for url in target["target"]["links"].values():
        assert client.get(url).status_code == 200


def test_an_actual_dataset_links_back_to_its_targets(client):
    actual = client.get("/api/v1/datasets/tpt").get_json()
    assert actual["target"] is None
    assert actual["targets"] == [
        {
            "dataset": "tpt-target",
            "title": {"id": "TPT-TARGET"},
            "document": "RPJMD 2021-2026",
            "links": {
                "self": "/api/v1/datasets/tpt-target",
                "achievement": "/api/v1/datasets/tpt-target/achievement",
            },
        }
    ]


def test_links_are_there_before_the_actual_dataset_is_harvested(engine, make_app):
    ts.write_tpt_target(engine)
    client = make_app().test_client()
    target = client.get("/api/v1/datasets/tpt-target").get_json()["target"]
    assert target["links"]["actual"] == "/api/v1/datasets/tpt"
    assert client.get(target["links"]["actual"]).status_code == 404  # until it is harvested
    ts.write_tpt(engine)
    assert client.get("/api/v1/datasets/tpt").get_json()["targets"][0]["dataset"] == "tpt-target"


def test_better_by_a_dimension_and_a_scale_in_the_dataset(engine, make_app):
    ts.write_makro(engine)
    scaled = {**ts.TPT_TARGET, "scale": 1000000, "of": {"dataset": "tpt", "indicator": "543"}}
    ts.write_tpt_target(engine, target=scaled)
    client = make_app().test_client()
    makro = client.get("/api/v1/datasets/makro-target").get_json()["target"]
    assert (makro["better"], makro["better_by"]) == (
        None,
        {"dimension": "indikator", "lower": ["tpt"], "higher": ["pe"]},
    )
    text = client.get("/api/v1/datasets/tpt-target").get_data(as_text=True)
    assert '"scale": 1000000' in text or '"scale":1000000' in text
    assert '"indicator": "543"' in text or '"indicator":"543"' in text
