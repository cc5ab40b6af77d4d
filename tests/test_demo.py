"""The bundled demo catalog, end to end: offline harvest, exact figures out, re-parse from raw."""

from __future__ import annotations

import csv
import io
import os

from click.testing import CliRunner
from sqlalchemy import select

from harvesters.bps import BPSHarvester
from opendata.catalog import load_catalog
from opendata.cli import cli
from opendata.config import PROJECT_DIR, load_settings
from opendata.store import schema as t
from opendata.store.runs import load_payloads
from opendata.store.writer import load_region_index


def _invoke(store_url, *args):
    env = {"OPENDATA_DATABASE_URL": store_url, "OPENDATA_CATALOG_DIR": ""}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _csv(result) -> list[dict]:
    return list(csv.DictReader(io.StringIO(result.stdout_bytes.decode("utf-8"))))


def test_the_demo_catalog_harvests_offline_and_exports_published_figures(store_url):
    result = _invoke(store_url, "harvest", "--all", "--offline")
    assert result.exit_code == 0, result.output
    assert "harvested 16 of 16 datasets" in result.output
    # Kalsel's poverty rate, March 2025: 3.84 % (BPS); Indonesia 8.47 %
    rows = _csv(_invoke(store_url, "export", "penduduk-miskin-provinsi", "--from", "2025"))
    assert {(r["region_code"], r["period"], r["value"]) for r in rows} == {
        ("6300", "2025-S1", "3.84"),
        ("0000", "2025-S1", "8.47"),
    }
    rows = _csv(_invoke(store_url, "export", "garis-kemiskinan-kabkota", "--region", "63.71"))
    assert [(r["region_name"], r["period"], r["unit"]) for r in rows] == [
        ("Kota Banjarmasin", "2025", "Rupiah/kapita/bulan")
    ]
    rows = _csv(_invoke(store_url, "export", "tpt-provinsi", "--region", "6300"))
    assert [r["period"] for r in rows] == ["2023-08", "2024-08", "2025-08"]
    rows = _csv(_invoke(store_url, "export", "pdrb-per-kapita-provinsi", "--dim", "harga=531"))
    assert {r["harga"] for r in rows} == {"Harga Konstan 2010"}
    assert "35342.1" in {r["value"] for r in rows}  # as published: one decimal, not 35342.10


def test_a_second_offline_harvest_changes_nothing(store_url):
    _invoke(store_url, "harvest", "--all", "--offline")
    result = _invoke(store_url, "harvest", "--all", "--offline")
    assert result.exit_code == 0
    assert "harvested 16 of 16 datasets" in result.output


def test_stored_payloads_parse_again_offline_into_the_same_records(engine, store_url):
    _invoke(store_url, "harvest", "tpt-provinsi", "--offline")
    spec = load_catalog(PROJECT_DIR / "datasets")["tpt-provinsi"]
    harvester = BPSHarvester(load_settings(environ={}), offline=True)
    fetched = harvester.fetch(spec, keep=lambda payload: None)
    with engine.connect() as conn:
        run_id = conn.execute(select(t.harvest_run.c.id)).scalar()
        stored = load_payloads(conn, run_id)
        regions = load_region_index(conn)
    assert [p.body for p in stored] == [p.body for p in fetched]
    again = harvester.parse(spec, stored, regions)
    assert (
        again.records
        == BPSHarvester(load_settings(environ={})).parse(spec, fetched, regions).records
    )
    assert len(again.records) == 6


def test_default_paths_do_not_depend_on_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.CATALOG_DIR == PROJECT_DIR / "datasets"
    assert settings.DATABASE_URL == f"sqlite:///{PROJECT_DIR / 'data' / 'opendata.sqlite3'}"
    assert os.path.isabs(settings.DATABASE_URL.removeprefix("sqlite:///"))


def test_source_timestamps_are_served_in_utc(store_url):
    from opendata import create_app

    _invoke(store_url, "harvest", "pdrb-per-kapita-provinsi", "--offline")
    app = create_app({"DATABASE_URL": store_url})
    body = app.test_client().get("/api/v1/datasets/pdrb-per-kapita-provinsi").get_json()
    app.extensions["opendata"].engine.dispose()
    # BPS: "last_update": "2026-02-19 10:24:55", Jakarta time (UTC+7)
    assert body["source_last_update"] == "2026-02-19T03:24:55Z"
    assert {i["source_last_update"] for i in body["indicators"]} == {"2026-02-19T03:24:55Z"}


def test_a_renamed_breakdown_serves_every_figure_once(store_url, tmp_path):
    """BPS's turvar harvested as `turvar`, then renamed `harga` in the catalog (issue 6.1)."""
    import shutil

    from opendata import create_app

    catalog = tmp_path / "catalog"
    shutil.copytree(PROJECT_DIR / "datasets" / "snapshots", catalog / "snapshots")
    entry = (PROJECT_DIR / "datasets" / "pdrb-per-kapita-provinsi.yaml").read_text()
    env = {"OPENDATA_DATABASE_URL": store_url, "OPENDATA_CATALOG_DIR": str(catalog)}

    def harvest(slug: str):
        (catalog / "pdrb-per-kapita-provinsi.yaml").write_text(
            entry.replace("dimensions: {turvar: harga}", f"dimensions: {{turvar: {slug}}}")
        )
        args = ["harvest", "pdrb-per-kapita-provinsi", "--offline"]
        result = CliRunner().invoke(cli, args, env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output

    harvest("turvar")
    app = create_app({"DATABASE_URL": store_url, "CATALOG_DIR": catalog})
    client = app.test_client()
    url = "/api/v1/datasets/pdrb-per-kapita-provinsi/observations"
    before = client.get(url).get_json()["data"]
    harvest("harga")
    runs = CliRunner().invoke(cli, ["runs", "--limit", "1"], env=env).output
    assert "dimension 'turvar' is now 'harga'" in runs
    after = client.get(url).get_json()["data"]
    assert len(after) == len(before) > 0
    assert [list(o["dimensions"]) for o in after] == [["harga"]] * len(after)
    assert [o["value"] for o in after] == [o["value"] for o in before]
    dataset = client.get("/api/v1/datasets/pdrb-per-kapita-provinsi").get_json()
    assert [d["id"] for d in dataset["dimensions"]] == ["harga"]
    text = client.get(url + ".csv").get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0].count("harga_code") == 1 and "turvar_code" not in rows[0]
    assert len(rows) == len(before) + 1 and all(r[rows[0].index("harga")] for r in rows[1:])
    app.extensions["opendata"].engine.dispose()
