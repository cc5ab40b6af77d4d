"""A spreadsheet end to end: catalog entry -> ``opendata harvest --offline`` -> API and CSV.

The catalog entry is the worked example of docs/harvesters.md (our XLSX fixture: a title row,
a merged two-row header, text numbers with comma decimals, a footnote mark, a total row, a
signature block) and a semicolon CSV; users must see exactly the published figures.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from opendata import create_app
from opendata.cli import cli

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bappeda"
ENTRY = """\
id: panjang-jalan-kabkota
title: {id: Panjang jalan menurut kabupaten/kota dan kelas jalan, en: Road length}
source: spreadsheet
license: CC-BY-4.0
spreadsheet:
  path: files/jalan_kabkota.xlsx
  sheet: jalan
table:
  skip_rows: 1
  header_rows: 2
  region: {column: Kabupaten/Kota, by: name, within: "6300"}
  periods: across
  dimensions:
    - {column: Kelas Jalan, id: kelas_jalan, label: Kelas jalan}
  decimal: ","
  marks: {"*": angka sementara}
  indicator: {code: panjang_jalan, name: Panjang jalan, unit: km}
"""
PPK = """\
id: ppk-kabkota
title: Pengeluaran per kapita disesuaikan
source: spreadsheet
spreadsheet: {path: files/ppk_kabkota_semicolon.csv}
table:
  skip_rows: 2
  region: {column: Kabupaten/Kota}
  periods: across
  decimal: ","
  indicator: {code: ppk, name: Pengeluaran per kapita disesuaikan, unit: Ribu Rupiah/Orang/Tahun}
"""


def catalog(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    (folder / "files").mkdir(parents=True)
    shutil.copy(FIXTURES / "jalan_kabkota.xlsx", folder / "files")
    shutil.copy(FIXTURES / "ppk_kabkota_semicolon.csv", folder / "files")
    (folder / "panjang-jalan-kabkota.yaml").write_text(ENTRY, encoding="utf-8")
    (folder / "ppk-kabkota.yaml").write_text(PPK, encoding="utf-8")
    return folder


def invoke(store_url, folder, *args):
    env = {"OPENDATA_DATABASE_URL": store_url, "OPENDATA_CATALOG_DIR": str(folder)}
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def api_get(store_url, folder, path: str) -> tuple[int, str]:
    """The status and body of a GET; the body read (a CSV streams) before the store closes."""
    app = create_app({"DATABASE_URL": store_url, "CATALOG_DIR": folder, "TESTING": True})
    try:
        response = app.test_client().get(path)
        return response.status_code, response.get_data(as_text=True)
    finally:
        app.extensions["opendata"].engine.dispose()


def test_a_spreadsheet_harvested_offline_is_served_exactly(store_url, tmp_path):
    folder = catalog(tmp_path)
    invoke(store_url, folder, "harvest", "--all", "--offline")
    out = invoke(store_url, folder, "export", "panjang-jalan-kabkota").stdout_bytes.decode()
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [
        (
            r["region_code"],
            r["period"],
            r["kelas_jalan_code"],
            r["kelas_jalan"],
            r["value"],
            r["unit"],
            r["flag"],
            r["note"],
        )
        for r in rows
    ] == [
        ("6300", "2022", "_T", "Jumlah", "2214.75", "km", "", ""),
        ("6300", "2023", "_T", "Jumlah", "", "km", "L", ""),
        ("6301", "2022", "kelas_i", "Kelas I", "1234.50", "km", "", ""),
        ("6301", "2023", "kelas_i", "Kelas I", "1240.00", "km", "", ""),
        ("6302", "2022", "kelas_i", "Kelas I", "980.25", "km", "*", "angka sementara"),
        ("6302", "2023", "kelas_i", "Kelas I", "", "km", "M", ""),
    ]
    status, text = api_get(
        store_url, folder, "/api/v1/datasets/panjang-jalan-kabkota/observations?region=6302"
    )
    assert status == 200
    assert '"value":980.25' in text.replace(" ", "")
    body = json.loads(text)
    assert [(o["period"], o["flag"], o["note"]) for o in body["data"]] == [
        ("2022", "*", "angka sementara"),
        ("2023", "M", None),
    ]
    _, text = api_get(store_url, folder, "/api/v1/datasets/ppk-kabkota/observations?region=6301")
    assert '"value":12345.67' in text.replace(" ", "") and '"value":12890.12' in text.replace(
        " ", ""
    )
    _, csv_text = api_get(
        store_url, folder, "/api/v1/datasets/panjang-jalan-kabkota/observations.csv?region=6301"
    )
    assert ",1234.50,km," in csv_text and ",1240.00,km," in csv_text


def test_the_run_log_says_what_was_left_below_the_table(store_url, tmp_path):
    folder = catalog(tmp_path)
    invoke(store_url, folder, "harvest", "--all", "--offline")
    invoke(store_url, folder, "harvest", "--all", "--offline")
    out = invoke(store_url, folder, "runs").output
    assert (
        "files/jalan_kabkota.xlsx, sheet 'jalan': the table ends at row 7 (an empty row); 3 "
        "non-empty row(s) below it (rows 8-10" in out
    )
    assert "files/ppk_kabkota_semicolon.csv: delimiter semicolon (';') detected" in out
    assert "NIP" not in out and "19700101" not in out and "1968" not in out
    statuses = [line.split()[4] for line in out.splitlines() if line.startswith("#")]
    assert statuses == ["unchanged", "unchanged", "ok", "ok"]  # the same files: skipped
