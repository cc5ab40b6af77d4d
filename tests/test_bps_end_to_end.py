"""BPS tables end to end: an offline harvest of a snapshot, then what people download.

Each test writes a catalog entry and its snapshot (a BPS body, in BPS's format, written by us),
harvests it with the real command line, and reads the CSV export and the API as users do.
"""

from __future__ import annotations

import csv
import io
import json

import pandas
from click.testing import CliRunner
from sqlalchemy import select

from harvesters.bps import BPSHarvester
from opendata import create_app
from opendata.cli import cli
from opendata.store import make_engine
from opendata.store import schema as t

FLAGS_BODY = {
    "status": "OK",
    "data-availability": "available",
    "last_update": "2025-02-03 04:05:06",
    "var": [{"val": 1, "label": "Inflasi", "unit": "Persen", "decimal": 2, "note": ""}],
    "turvar": [{"val": "0", "label": "Tidak ada"}],
    "labelvervar": "Wilayah Inflasi",
    "vervar": [{"val": 6371, "label": "Kota Banjarmasin"}],
    "tahun": [{"val": 124, "label": "2024"}],
    "turtahun": [
        {"val": m, "label": name}
        for m, name in enumerate(["Januari", "Februari", "Maret", "April", "Mei", "Juni"], start=1)
    ],
    "datacontent": {
        "6371101241": "-",
        "6371101242": "\u2026",
        "6371101243": "x",
        "6371101244": "*",
        "6371101245": "1,5",
        "6371101246": "-0.47",
    },
}


def write_table(catalog, dataset_id: str, body: dict, dimensions: str = "") -> None:
    """A catalog entry of BPS domain 6371, var 1, 2024, with ``body`` as its snapshot."""
    catalog.mkdir(exist_ok=True)
    entry = f"id: {dataset_id}\ntitle: Test\nsource: bps\n"
    entry += "bps: {domain: '6371', var: 1, years: 2024}\n"
    (catalog / f"{dataset_id}.yaml").write_text(entry + dimensions, encoding="utf-8")
    snapshots = catalog / "snapshots" / dataset_id
    snapshots.mkdir(parents=True)
    (snapshots / "data_6371_1_124.json").write_text(json.dumps(body), encoding="utf-8")


def invoke(store_url, catalog, *args):
    env = {"OPENDATA_DATABASE_URL": store_url, "OPENDATA_CATALOG_DIR": str(catalog)}
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def export(store_url, catalog, dataset_id: str) -> str:
    return invoke(store_url, catalog, "export", dataset_id).stdout_bytes.decode("utf-8")


def api_get(store_url, catalog, path: str):
    app = create_app({"DATABASE_URL": store_url, "CATALOG_DIR": catalog, "TESTING": True})
    try:
        return app.test_client().get(path)
    finally:
        app.extensions["opendata"].engine.dispose()


# --- item: BPS symbols are flags ---------------------------------------------------------------


def test_bps_symbols_are_flags_in_the_csv_and_the_json(store_url, tmp_path):
    catalog = tmp_path / "catalog"
    write_table(catalog, "inflasi", FLAGS_BODY)
    invoke(store_url, catalog, "harvest", "inflasi", "--offline")
    rows = list(csv.DictReader(io.StringIO(export(store_url, catalog, "inflasi"))))
    assert [(r["period"], r["value"], r["flag"], r["note"]) for r in rows] == [
        ("2024-01", "", "M", ""),
        ("2024-02", "", "L", ""),
        ("2024-03", "", "C", ""),
        ("2024-04", "", "*", ""),
        ("2024-05", "", "L", "1,5"),
        ("2024-06", "-0.47", "", ""),
    ]
    body = api_get(store_url, catalog, "/api/v1/datasets/inflasi/observations").get_json()
    assert [(o["value"], o["flag"], o["note"]) for o in body["data"]] == [
        (None, "M", None),
        (None, "L", None),
        (None, "C", None),
        (None, "*", None),
        (None, "L", "1,5"),
        (-0.47, None, None),
    ]


def test_a_store_the_previous_parser_harvested_is_parsed_again(store_url, tmp_path, monkeypatch):
    """The same payloads parse differently now: an unchanged re-harvest must not be skipped."""
    catalog = tmp_path / "catalog"
    write_table(catalog, "inflasi", FLAGS_BODY)
    with monkeypatch.context() as patch:
        patch.setattr(BPSHarvester, "version", "2")  # the version of the previous parser
        invoke(store_url, catalog, "harvest", "inflasi", "--offline")
    invoke(store_url, catalog, "harvest", "inflasi", "--offline")
    invoke(store_url, catalog, "harvest", "inflasi", "--offline")
    engine = make_engine(store_url)
    with engine.connect() as conn:
        run = t.harvest_run
        statuses = conn.execute(select(run.c.status).order_by(run.c.id)).scalars().all()
    engine.dispose()
    # parsed again after the upgrade (not skipped as unchanged), then skipped as it should be
    assert statuses == ["ok", "ok", "unchanged"]


# --- item: dimension ids never repeat a CSV column ---------------------------------------------

#: rows are categories named "Value", columns a group named "Region": ids "value" and "region"
CLASH_BODY = {
    **FLAGS_BODY,
    "labelvervar": "Value",
    "vervar": [{"val": 1, "label": "Satu"}, {"val": 2, "label": "Dua"}],
    "turvar": [{"val": 11, "label": "Region Utara"}, {"val": 12, "label": "Region Selatan"}],
    "turtahun": [{"val": 0, "label": "Tahun"}],
    "datacontent": {f"{r}1{c}1240": f"{r}.{c}" for r in (1, 2) for c in (11, 12)},
}
TURVAR_BODY = {
    "status": "OK",
    "data-availability": "available",
    "data": [
        {"page": 1, "pages": 1, "per_page": 10, "count": 2, "total": 2},
        [
            {"turvar_id": 11, "turvar": "Region Utara", "name_group_turvar": "Region"},
            {"turvar_id": 12, "turvar": "Region Selatan", "name_group_turvar": "Region"},
        ],
    ],
}
CLASH_COLUMNS = [
    "dataset",
    "region_code",
    "region_name",
    "period",
    "value_dim_code",
    "value_dim",
    "region_dim_code",
    "region_dim",
    "value",
    "unit",
    "flag",
    "note",
]


def test_derived_ids_named_like_csv_columns_give_each_column_once(store_url, tmp_path):
    catalog = tmp_path / "catalog"
    write_table(catalog, "bentrok", CLASH_BODY)
    turvar = json.dumps(TURVAR_BODY)
    (catalog / "snapshots" / "bentrok" / "turvar_6371_1.json").write_text(turvar, encoding="utf-8")
    invoke(store_url, catalog, "harvest", "bentrok", "--offline")
    text = export(store_url, catalog, "bentrok")
    expected = [
        ("6371", "Kota Banjarmasin", "1", "Satu", "11", "Region Utara", "1.11"),
        ("6371", "Kota Banjarmasin", "1", "Satu", "12", "Region Selatan", "1.12"),
        ("6371", "Kota Banjarmasin", "2", "Dua", "11", "Region Utara", "2.11"),
        ("6371", "Kota Banjarmasin", "2", "Dua", "12", "Region Selatan", "2.12"),
    ]
    fields = ["region_code", "region_name", "value_dim_code", "value_dim"]
    fields += ["region_dim_code", "region_dim", "value"]
    reader = csv.DictReader(io.StringIO(text))
    rows = list(reader)
    assert reader.fieldnames == CLASH_COLUMNS
    assert sorted(tuple(row[f] for f in fields) for row in rows) == expected
    frame = pandas.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert list(frame.columns) == CLASH_COLUMNS  # no "value.1", no "region_code.1"
    assert sorted(frame[fields].itertuples(index=False, name=None)) == expected
    body = api_get(store_url, catalog, "/api/v1/datasets/bentrok/observations?dim.value_dim=2")
    assert [
        (o["dimensions"]["region_dim"]["code"], o["value"]) for o in body.get_json()["data"]
    ] == [
        ("11", 2.11),
        ("12", 2.12),
    ]
