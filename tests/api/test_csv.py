"""CSV downloads: the filters of the JSON, streamed, in a file named after what is in it."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from opendata.api.observations import FILE_NAME_LENGTH, file_name
from opendata.formats.csv import write_csv
from opendata.store.queries import ObservationQuery
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
        ("to=2024-08&dim.jenis_kelamin=1", "demo_to-2024-08_jenis_kelamin-1.csv"),
        ("dim.jenis_kelamin=2,1&region=63", "demo_6300_jenis_kelamin-2-1.csv"),
        ("dim.jenis_kelamin=3&dim.jenis_kelamin=3,1", "demo_jenis_kelamin-3-1.csv"),
        ("region=6371,6372,6300,0000,6301,6302,6371", "demo_6371-6372-6300-0000-6301-etc.csv"),
    ],
)
def test_the_file_name_names_the_filters(client, query, name):
    disposition = client.get(f"{URL}.csv?{query}").headers["Content-Disposition"]
    assert disposition == f'attachment; filename="{name}"'


def test_downloads_of_other_dimension_values_have_other_names(client):
    names = {
        client.get(f"{URL}.csv?dim.jenis_kelamin={code}").headers["Content-Disposition"]
        for code in ("1", "2", "3", "1,2")
    }
    assert len(names) == 4


def test_file_names_are_filesystem_safe_and_bounded():
    query = ObservationQuery(
        "demo",
        regions=["6371"],
        dimensions={
            "b": ['a"b', "x/y", "../..", "é ü", "1;2", "n\u0000m", "z"],
            "a": ["1"],
            **{f"dimension_{n:02}": [str(n) * 10] for n in range(20)},
        },
    )
    slugs = ["a", "b", *(f"dimension_{n:02}" for n in range(20))]
    name = file_name("demo", query, {"from_": "2020"}, slugs)
    assert re.fullmatch(r"[A-Za-z0-9._-]+\.csv", name), name
    assert len(name) <= FILE_NAME_LENGTH + len(".csv")
    # unsafe characters become '-', a code with nothing safe in it is one of the "etc"
    assert name.startswith("demo_6371_from-2020_a-1_b-a-b-x-y-..-..-1-2-n-m-etc_dimension_00-")
    only_unsafe = ObservationQuery("demo", dimensions={"b": ["é", "ü"]})
    assert file_name("demo", only_unsafe, {}, slugs) == "demo_b-etc.csv"
    assert name.endswith("-etc.csv")


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


@pytest.mark.parametrize(
    ("dimensions", "twice"),
    [(["region"], "region_code"), (["value"], "value"), (["a", "a_code"], "a_code")],
)
def test_the_writer_refuses_a_header_with_a_column_twice(dimensions, twice):
    with pytest.raises(ValueError, match=f"name {twice} twice"):
        next(write_csv("demo", dimensions, [], {}))


def test_a_requested_region_without_data_is_a_warning_header_not_a_csv_row(client):
    response = client.get(f"{URL}.csv?region=6371,6301,6302")
    assert response.headers["Opendata-Warnings"] == (
        '"region 6301 (Kabupaten Tanah Laut) has no observations in demo", '
        '"region 6302 (Kabupaten Kotabaru) has no observations in demo"'
    )
    assert {row["region_code"] for row in read(response)} == {"6371"}
    assert "Opendata-Warnings" not in client.get(f"{URL}.csv?region=6371").headers
