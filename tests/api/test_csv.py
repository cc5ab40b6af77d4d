"""CSV downloads: the filters of the JSON, streamed, in a file named after what is in it."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.api.conftest import CELLS

URL = "/api/v1/datasets/demo/observations"


def read(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_a_download_is_streamed_utf8_csv_with_a_file_name(client):
    response = client.get(f"{URL}.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="demo.csv"'
    rows = read(response)
    assert list(rows[0]) == [
        "dataset",
        "region_code",
        "region_name",
        "period",
        "jenis_kelamin_code",
        "jenis_kelamin",
        "value",
        "unit",
        "flag",
        "note",
    ]
    got = {(r["region_code"], r["period"], r["jenis_kelamin_code"]): r["value"] for r in rows}
    assert got == {key: value or "" for key, value in CELLS.items()}


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("region=63.71", "demo_6371.csv"),
        ("region=6372,6371&from=2024-Q1", "demo_6372-6371_from-2024-Q1.csv"),
        ("to=2024-08&dim.jenis_kelamin=1", "demo_to-2024-08.csv"),
    ],
)
def test_the_file_name_names_the_filters(client, query, name):
    disposition = client.get(f"{URL}.csv?{query}").headers["Content-Disposition"]
    assert disposition == f'attachment; filename="{name}"'


@pytest.mark.parametrize(
    "query", ["region=63.71", "from=2024-03&to=2024", "dim.jenis_kelamin=2,3&region=6300,6372"]
)
def test_the_csv_has_the_rows_of_the_json_in_the_same_order(client, query):
    page = client.get(f"{URL}?{query}&limit=100").get_data(as_text=True)
    observations = json.loads(page, parse_float=str, parse_int=str)["data"]  # numbers as sent
    rows = read(client.get(f"{URL}.csv?{query}"))
    assert [(r["region_code"], r["period"], r["jenis_kelamin"], r["value"]) for r in rows] == [
        (
            o["region"]["code"],
            o["period"],
            o["dimensions"]["jenis_kelamin"]["label"],
            o["value"] or "",
        )
        for o in observations
    ]


def test_values_keep_their_digits_in_the_csv(client):
    text = client.get(f"{URL}.csv?region=6371,6372").get_data(as_text=True)
    assert ",7.10,Jiwa" in text
    assert ",-0.47,Jiwa" in text  # a number, not a formula to neutralize
    assert ",0.000000000000000000012345678901234567,Jiwa" in text
