"""``lang=id|en`` and ``Accept-Language``: titles and descriptions in the language asked for.

A dataset whose catalog entry has both languages, read through every format that holds one
title: the dataset JSON's ``label``, the workbook's metadata sheet, the JSON-stat label and the
Data Package's title, with openpyxl, pyjstat and plain JSON as their users read them.
"""

from __future__ import annotations

import io

import openpyxl
import pytest
from pyjstat import pyjstat
from sqlalchemy import select

from opendata.catalog import parse_spec
from opendata.store import schema as t
from opendata.store.runs import finish_run, start_run
from opendata.store.writer import write_dataset
from tests import fakes
from tests.api.conftest import CELLS, DISTRICT

TITLE = {"id": "Penduduk menurut jenis kelamin", "en": "Population by sex"}
DESCRIPTION = {"id": "Jumlah penduduk.", "en": "Number of people."}

#: pyjstat's own Dataset.write("dataframe") calls its deprecated from_json_stat (pyjstat 2.4)
pytestmark = pytest.mark.filterwarnings("ignore:Shouldn't use this function:DeprecationWarning")


@pytest.fixture
def client(engine, make_app, tmp_path):
    spec = parse_spec(
        {
            "id": "demo",
            "title": TITLE,
            "description": DESCRIPTION,
            "source": "fake",
            "fake": {"n": 1},
        },
        tmp_path / "demo.yaml",
    )
    _write(engine, spec)
    return make_app().test_client()


def _write(engine, spec) -> None:
    """One harvest of the demo cells under ``spec``, as the runner writes it."""
    result = fakes.result(CELLS)
    result.regions.append(DISTRICT)
    with engine.begin() as conn:
        run_id = start_run(conn, "batch", spec.id, offline=True)
        known = set(conn.execute(select(t.region.c.code)).scalars())
        counts = write_dataset(conn, spec, "Fake source", result, run_id, known)
        finish_run(conn, run_id, "ok", counts)


@pytest.mark.parametrize(
    ("query", "headers", "label", "content_language"),
    [
        ("", {}, TITLE["id"], "id"),
        ("?lang=en", {}, TITLE["en"], "en"),
        ("?lang=id", {"Accept-Language": "en"}, TITLE["id"], "id"),
        ("", {"Accept-Language": "en-US,en;q=0.9"}, TITLE["en"], "en"),
        ("", {"Accept-Language": "id-ID,id;q=0.9,en;q=0.5"}, TITLE["id"], "id"),
        ("", {"Accept-Language": "fr"}, TITLE["id"], "id"),
    ],
)
def test_dataset_label_follows_lang_then_accept_language(
    client, query, headers, label, content_language
):
    detail = client.get(f"/api/v1/datasets/demo{query}", headers=headers)
    listed = client.get(f"/api/v1/datasets{query}", headers=headers)
    assert detail.status_code == listed.status_code == 200
    assert detail.json["label"] == label
    assert listed.json["data"][0]["label"] == label
    assert detail.json["title"] == TITLE  # both languages, whatever was asked
    assert detail.headers["Content-Language"] == content_language


def test_accept_language_varies_the_etag_and_the_cache(client):
    indonesian = client.get("/api/v1/datasets/demo")
    english = client.get("/api/v1/datasets/demo", headers={"Accept-Language": "en"})
    assert "Accept-Language" in english.headers["Vary"]
    assert indonesian.headers["ETag"] != english.headers["ETag"]
    # the cache keeps each language apart: asking again gives each its own
    again = client.get("/api/v1/datasets/demo")
    assert again.json["label"] == TITLE["id"]
    assert again.headers["ETag"] == indonesian.headers["ETag"]
    # the tag of one language is no 304 for the other
    crossed = client.get(
        "/api/v1/datasets/demo",
        headers={"Accept-Language": "en", "If-None-Match": indonesian.headers["ETag"]},
    )
    assert crossed.status_code == 200
    assert crossed.json["label"] == TITLE["en"]
    # lang= in the URL says it all: no Vary on Accept-Language
    explicit = client.get("/api/v1/datasets/demo?lang=en")
    assert "Accept-Language" not in explicit.headers.get("Vary", "")


@pytest.mark.parametrize("value", ["fr", "", "EN", "en,id"])
def test_a_bad_lang_is_a_400_naming_the_choices(client, value):
    response = client.get(f"/api/v1/datasets?lang={value}")
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "lang" in response.json["errors"]
    text = str(response.json["errors"]["lang"])
    assert "id" in text and "en" in text or "leave lang out" in text


def _metadata(body: bytes) -> dict:
    sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True)["metadata"]
    return {row[0]: row[1] for row in sheet.iter_rows(values_only=True)}


@pytest.mark.parametrize(("lang", "headers"), [("id", {}), ("en", {"Accept-Language": "en"})])
def test_every_format_with_a_title_takes_it_in_the_language(client, lang, headers):
    rows = _metadata(client.get("/api/v1/datasets/demo/observations.xlsx", headers=headers).data)
    assert rows["title"] == TITLE[lang]
    assert rows["description"] == DESCRIPTION[lang]

    jsonstat = client.get(f"/api/v1/datasets/demo/observations.jsonstat?lang={lang}")
    assert jsonstat.json["label"] == TITLE[lang]
    assert not pyjstat.Dataset.read(jsonstat.get_data(as_text=True)).write("dataframe").empty

    package = client.get("/api/v1/datasets/demo/datapackage.json", headers=headers).json
    assert package["title"] == TITLE[lang]
    assert package["description"] == DESCRIPTION[lang]


def test_the_observations_take_lang_and_keep_their_labels(client):
    """Region names and the source's labels exist in Indonesian only: lang leaves them."""
    english = client.get("/api/v1/datasets/demo/observations?lang=en&limit=1000").json["data"]
    default = client.get("/api/v1/datasets/demo/observations?limit=1000").json["data"]
    assert english == default
    csv_en = client.get("/api/v1/datasets/demo/observations.csv?lang=en").data
    assert csv_en == client.get("/api/v1/datasets/demo/observations.csv").data


def test_a_text_without_the_language_falls_back_to_the_other(make_app, engine, tmp_path):
    spec = parse_spec(
        {"id": "only-id", "title": "Hanya Indonesia", "source": "fake", "fake": {"n": 1}},
        tmp_path / "only-id.yaml",
    )
    _write(engine, spec)
    client = make_app().test_client()
    assert client.get("/api/v1/datasets/only-id?lang=en").json["label"] == "Hanya Indonesia"
