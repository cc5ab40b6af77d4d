"""Several datasets at once: ``/api/v1/observations?dataset=a,b`` and its CSV."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from click.testing import CliRunner

from opendata.cli import cli
from tests.api.conftest import CELLS, harvest
from tests.api.test_observations import walk

URL = "/api/v1/observations"
#: a second dataset of the fake source (the same sex dimension), beside ``demo``
OTHER = {
    ("6300", "2024", "3"): "1.5",
    ("6371", "2024", "1"): "2.25",
    ("6372", "2023", "2"): "3",
}


@pytest.fixture
def client(store, make_app):
    harvest(store, OTHER, "lain")
    return make_app().test_client()


def rows(observations):
    return [(o["dataset"], o["region"]["code"], o["period"]) for o in observations]


def test_rows_of_each_dataset_in_the_order_asked_each_with_its_dataset(client):
    page = client.get(f"{URL}?dataset=lain,demo&limit=100").get_json()
    demo = client.get("/api/v1/datasets/demo/observations?limit=100").get_json()["data"]
    lain = client.get("/api/v1/datasets/lain/observations").get_json()["data"]
    assert page["data"] == [{"dataset": "lain", **o} for o in lain] + [
        {"dataset": "demo", **o} for o in demo
    ]
    assert list(page["data"][0]) == ["dataset", "region", "period", "dimensions", "value"] + [
        "unit",
        "flag",
        "note",
    ]
    assert page["next"] is None and page["warnings"] == []


def test_a_dataset_named_twice_counts_once_and_a_repeated_parameter_adds(client):
    once = client.get(f"{URL}?dataset=demo,lain&limit=100").get_json()["data"]
    assert client.get(f"{URL}?dataset=demo,lain,demo&limit=100").get_json()["data"] == once
    assert client.get(f"{URL}?dataset=demo&dataset=lain&limit=100").get_json()["data"] == once


@pytest.mark.parametrize("limit", [1, 2, 5, 12, 13])
def test_pages_cross_from_one_dataset_to_the_next(client, limit):
    whole = client.get(f"{URL}?dataset=demo,lain&limit=100").get_json()["data"]
    assert len(whole) == len(CELLS) + len(OTHER)
    observations, sizes = walk(client, f"{URL}?dataset=demo,lain&limit={limit}")
    assert observations == whole
    assert all(size == limit for size in sizes[:-1])


def test_the_filters_apply_to_every_dataset(client):
    query = "dataset=demo,lain&within=63&level=regency&latest=1&dim.jenis_kelamin=1"
    page = client.get(f"{URL}?{query}").get_json()
    assert rows(page["data"]) == [
        ("demo", "6371", "2024"),  # the stable order: period start, then end
        ("demo", "6371", "2024-Q3"),
        ("demo", "6371", "2024-S2"),
        ("demo", "6371", "2024-08"),
        ("lain", "6371", "2024"),
    ]
    page = client.get(f"{URL}?dataset=demo,lain&region=6300&from=2024").get_json()
    assert rows(page["data"]) == [("demo", "6300", "2024"), ("lain", "6300", "2024")]


def test_count_sums_the_datasets(client):
    response = client.get(f"{URL}?dataset=demo,lain&count=true&limit=1")
    assert response.get_json()["total"] == len(CELLS) + len(OTHER)
    assert response.headers["X-Total-Count"] == str(len(CELLS) + len(OTHER))


def test_warnings_name_the_dataset(client):
    page = client.get(f"{URL}?dataset=demo,lain&region=6371010").get_json()
    assert page["warnings"] == ["region 6371010 (Banjarmasin Selatan) has no observations in lain"]


@pytest.mark.parametrize(
    ("query", "status", "param", "words"),
    [
        ("", 400, "dataset", "Missing data"),
        ("dataset=", 400, "dataset", "empty"),
        ("dataset=demo,", 400, "dataset", "empty"),
        ("dataset=demo,nope", 404, None, "no dataset 'nope' has been harvested"),
        ("dataset=demo&dim.harga=1", 400, "dim.harga", "none of the datasets"),
        ("dataset=demo,lain&dim.jenis_kelamin=9", 400, "dim.jenis_kelamin", "unknown value"),
        ("dataset=demo&cursor=x", 400, "cursor", "not a cursor"),
        ("dataset=demo&cursor=5.abc", 400, "cursor", "not a cursor"),
        ("dataset=" + ",".join(f"d{n}" for n in range(21)), 400, "dataset", "at most 20"),
    ],
)
def test_bad_requests(client, query, status, param, words):
    response = client.get(f"{URL}?{query}")
    assert response.status_code == status, response.get_json()
    problem = response.get_json()
    if param:
        assert param in problem["errors"]
    assert words in str(problem)


def test_a_cursor_belongs_to_the_list_and_its_order(client):
    first = client.get(f"{URL}?dataset=demo,lain&limit=2").get_json()
    cursor = first["next"].split("cursor=")[1]
    assert client.get(f"{URL}?dataset=lain,demo&limit=2&cursor={cursor}").status_code == 400
    assert client.get(f"{URL}?dataset=demo&limit=2&cursor={cursor}").status_code == 400


def test_the_csv_is_each_datasets_csv_under_one_header(client):
    response = client.get(f"{URL}.csv?dataset=lain,demo")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    demo = client.get("/api/v1/datasets/demo/observations.csv").get_data(as_text=True)
    lain = client.get("/api/v1/datasets/lain/observations.csv").get_data(as_text=True)
    assert text == lain + demo.split("\r\n", 1)[1]
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert list(frame["dataset"].unique()) == ["lain", "demo"]
    assert response.headers["X-Total-Count"] == str(len(frame))
    assert 'filename="lain-demo.csv"' in response.headers["Content-Disposition"]


def test_an_etag_and_304(client):
    response = client.get(f"{URL}?dataset=demo,lain")
    again = client.get(
        f"{URL}?dataset=demo,lain", headers={"If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304


# -- the bundled catalog: datasets with other dimensions --------------------------------------


@pytest.fixture
def catalog_client(store_url, make_app):
    env = {"OPENDATA_DATABASE_URL": store_url, "OPENDATA_CATALOG_DIR": ""}
    ids = ["penduduk-miskin-provinsi", "pdrb-per-kapita-provinsi", "ipm-kabkota"]
    result = CliRunner().invoke(cli, ["harvest", *ids, "--offline"], env=env)
    assert result.exit_code == 0, result.output
    return make_app(CATALOG_DIR="").test_client()


def test_the_csv_has_the_union_of_the_dimensions_empty_where_a_dataset_lacks_one(catalog_client):
    query = "dataset=ipm-kabkota,pdrb-per-kapita-provinsi&region=6300&latest=1"
    response = catalog_client.get(f"{URL}.csv?{query}")
    assert response.status_code == 200, response.get_data(as_text=True)
    frame = pd.read_csv(io.StringIO(response.get_data(as_text=True)), dtype=str)
    pdrb = catalog_client.get("/api/v1/datasets/pdrb-per-kapita-provinsi").get_json()
    slugs = [d["id"] for d in pdrb["dimensions"]]
    assert list(frame.columns) == [
        "dataset",
        "region_code",
        "region_name",
        "period",
        *[c for slug in slugs for c in (f"{slug}_code", slug)],
        "value",
        "unit",
        "flag",
        "note",
    ]
    ipm = frame[frame["dataset"] == "ipm-kabkota"]
    assert len(ipm) >= 1 and ipm[f"{slugs[0]}_code"].isna().all()
    assert frame[frame["dataset"] == "pdrb-per-kapita-provinsi"][f"{slugs[0]}_code"].notna().all()
    page = catalog_client.get(f"{URL}?{query}&count=true").get_json()
    assert page["total"] == len(frame)
    assert [o["value"] for o in page["data"]] == [float(v) for v in frame["value"]]


def test_a_dimension_filter_applies_to_the_datasets_that_have_it(catalog_client):
    query = "dataset=penduduk-miskin-provinsi,pdrb-per-kapita-provinsi&dim.harga=531&region=6300"
    response = catalog_client.get(f"{URL}.csv?{query}")
    frame = pd.read_csv(io.StringIO(response.get_data(as_text=True)), dtype=str)
    assert set(frame["dataset"]) == {"penduduk-miskin-provinsi", "pdrb-per-kapita-provinsi"}
    pdrb = frame[frame["dataset"] == "pdrb-per-kapita-provinsi"]
    assert set(pdrb["harga_code"]) == {"531"}
    reader = csv.reader(io.StringIO(response.get_data(as_text=True)))
    assert sum(1 for _ in reader) - 1 == int(response.headers["X-Total-Count"])
