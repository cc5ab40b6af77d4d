"""The Excel CSV for an Indonesian locale (``profile=excel-id``), read back by its real clients:
LibreOffice's own CSV import (headless, Indonesian locale, converted to XLSX, read with
openpyxl) and pandas (``sep=";", decimal=","``).

LibreOffice is Debian's ``libreoffice-calc``; without ``soffice`` its test is skipped, except
in CI (``CI`` set), where it fails: ``.ci/run`` installs it.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from opendata.cli import cli
from opendata.formats.csv import (
    EXCEL_ID,
    as_text_formula,
    decimal_comma,
    spreadsheet_text,
    write_csv,
)
from opendata.formats.wide import write_wide
from tests.api.conftest import CELLS

URL = "/api/v1/datasets/demo/observations.csv"
#: LibreOffice's CSV import options: ``;`` (59), ``"`` (34), UTF-8 (76), from line 1, standard
#: column formats, Indonesian (1057: decimal comma), quoted fields not forced to text, special
#: numbers (dates, times) detected: the harder case for codes and periods
INFILTER = "CSV:59,34,76,1,,1057,false,true"
#: a code Excel would turn into the number 0, names with accents, a label a spreadsheet reads as
#: a date, text that starts like a formula, a range, a value in scientific notation
HARD_ROWS = [
    ("0000", "Indonésia", "2024", 1, None, None, "7.10", "Persen", None, "=1+1", None),
    ("6371", "Kota Banjarmasin", "2024-03", 2, None, None, "1.2345E-20", "-", "*", None, None),
    ("6371", "Kota Banjarmasin", "2024-Q1", 2, None, None, "6.0", "-", None, None, "6.9"),
]
HARD_PERIODS = ["2024", "2024-Q1", "2024-03"]
HARD_DIMENSIONS = {1: {"umur": ("0514", "5-9")}, 2: {"umur": ("63.71", "Lansia ≥ 60 ½")}}


def body(response) -> bytes:
    assert response.status_code == 200
    return response.get_data()


def text_codes(frame: pd.DataFrame, *names: str) -> pd.DataFrame:
    """Strip the ``="…"`` of codes read by a program (not a spreadsheet): docs/api.md says so."""
    for name in names:
        frame[name] = frame[name].str.removeprefix('="').str.removesuffix('"')
    return frame


def test_excel_id_is_utf8_with_bom_semicolons_crlf_and_decimal_commas(client):
    response = client.get(f"{URL}?profile=excel-id&region=6371,6372")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    name = "demo_6371-6372_excel-id.csv"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    data = body(response)
    assert data.startswith(b"\xef\xbb\xbfdataset;region_code;region_name;period;")
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[-1] == ""
    assert not any("\n" in line for line in lines)
    assert (
        'demo;"=""6371""";Kota Banjarmasin;"=""2024-08""";"=""2""";Perempuan;7,10;' in data.decode()
    )
    assert ";-0,47;" in data.decode()
    assert ";0,000000000000000000012345678901234567;" in data.decode()


def test_pandas_reads_the_long_excel_csv_with_numbers_and_text_codes(client):
    data = body(client.get(f"{URL}?profile=excel-id"))
    frame = pd.read_csv(io.BytesIO(data), sep=";", decimal=",", encoding="utf-8-sig", dtype=str)
    frame = pd.read_csv(
        io.BytesIO(data),
        sep=";",
        decimal=",",
        encoding="utf-8-sig",
        dtype={name: str for name in frame.columns if name != "value"},
        keep_default_na=False,
        na_values={"value": [""]},
    )
    assert frame["value"].dtype == "float64"
    frame = text_codes(frame, "region_code", "period", "jenis_kelamin_code")
    got = {(r.region_code, r.period, r.jenis_kelamin_code): r.value for r in frame.itertuples()}
    assert got.keys() == CELLS.keys()
    for key, value in CELLS.items():
        if value is None:
            assert pd.isna(got[key])
        else:
            assert got[key] == float(Decimal(value))  # the nearest double of the exact value


def test_pandas_reads_the_wide_excel_csv(client):
    data = body(client.get(f"{URL}?profile=excel-id&layout=wide"))
    frame = pd.read_csv(io.BytesIO(data), sep=";", decimal=",", encoding="utf-8-sig", dtype=str)
    periods = [name.removeprefix('="').removesuffix('"') for name in frame.columns[5:]]
    assert periods == ["2023", "2024-01", "2024-Q1", "2024", "2024-Q3", "2024-S2", "2024-08"]
    frame = pd.read_csv(
        io.BytesIO(data),
        sep=";",
        decimal=",",
        encoding="utf-8-sig",
        dtype={name: str for name in frame.columns[:5]},
    )
    assert all(frame[name].dtype == "float64" for name in frame.columns[5:])
    frame = text_codes(frame, "region_code", "jenis_kelamin_code")
    frame.columns = [*frame.columns[:5], *periods]
    got = {
        (row["region_code"], period, row["jenis_kelamin_code"]): row[period]
        for _, row in frame.iterrows()
        for period in periods
        if not pd.isna(row[period])
    }
    assert got == {key: float(Decimal(v)) for key, v in CELLS.items() if v is not None}


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("0000", '="0000"'),
        ('6"1', '="6""1"'),  # a string literal: its quote doubled, nothing runs
        ("=HYPERLINK(1)", '="=HYPERLINK(1)"'),
        ("", ""),
    ],
)
def test_codes_are_text_formulas(text, cell):
    assert as_text_formula(text) == cell


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("5-9", '="5-9"'),  # an age group a spreadsheet would read as a date
        ("2024", '="2024"'),
        ("Laki-laki", "Laki-laki"),
        ("=1+1", "'=1+1"),  # the formula guard of every CSV
        ("-x", "'-x"),
        ("-", "'-"),
        ("*", "*"),
        ("9" * 300, "9" * 300),  # longer than a formula's literal: left as it is
    ],
)
def test_other_text_is_a_text_formula_only_where_a_spreadsheet_would_read_a_number(text, cell):
    assert spreadsheet_text(text) == cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("7.10", "7,10"),
        ("-0.47", "-0,47"),
        ("683244", "683244"),
        ("1.2345E-20", "0,000000000000000000012345"),
        ("1E+3", "1000"),
    ],
)
def test_values_have_a_decimal_comma_in_plain_notation(value, cell):
    assert decimal_comma(value) == cell


def soffice() -> str:
    found = shutil.which("soffice")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs LibreOffice (soffice): .ci/run installs libreoffice-calc")
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-calc")
    return found


def convert(files: list, folder) -> list:
    """Convert CSV files to XLSX with LibreOffice's CSV import (one process for all: it is slow
    to start), in a profile of its own so that parallel runs do not share one."""
    command = [
        soffice(),
        f"-env:UserInstallation=file://{folder}/profile",
        "--headless",
        f"--infilter={INFILTER}",
        "--convert-to",
        "xlsx",
        "--outdir",
        str(folder / "out"),
        *map(str, files),
    ]
    env = {**os.environ, "HOME": str(folder)}
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    books = []
    for file in files:
        path = folder / "out" / (file.stem + ".xlsx")
        # data_only: the value a code's formula shows, as LibreOffice computed and saved it
        books.append(openpyxl.load_workbook(path, data_only=True).active)
    return books


def sheet_rows(sheet) -> list[list]:
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_libreoffice_opens_the_excel_csvs_with_numbers_and_text_codes(client, store_url, tmp_path):
    if not store_url.startswith("sqlite"):
        pytest.skip("one store is enough for LibreOffice (slow to start); pandas reads both")
    soffice()
    files = {
        "long": body(client.get(f"{URL}?profile=excel-id")),
        "wide": body(client.get(f"{URL}?profile=excel-id&layout=wide")),
        "hard": "".join(
            write_csv("demo", ["umur"], HARD_ROWS, HARD_DIMENSIONS, True, EXCEL_ID)
        ).encode(),
        "hard_wide": "".join(
            write_wide(
                ["umur"], HARD_ROWS, HARD_DIMENSIONS, ["2024", "2024-Q1", "2024-03"], EXCEL_ID
            )
        ).encode(),
    }
    paths = []
    for name, data in files.items():
        path = tmp_path / f"{name}.csv"
        path.write_bytes(data)
        paths.append(path)
    long, wide, hard, hard_wide = (sheet_rows(sheet) for sheet in convert(paths, tmp_path))

    head, *rows = long
    assert head[:7] == [
        "dataset",
        "region_code",
        "region_name",
        "period",
        "jenis_kelamin_code",
        "jenis_kelamin",
        "value",
    ]
    got = {(r[1], r[3], r[4]): r[6] for r in rows}
    assert got.keys() == CELLS.keys()
    for (region, period, sex), value in got.items():
        assert isinstance(region, str) and isinstance(period, str) and isinstance(sex, str)
        exact = CELLS[region, period, sex]
        if exact is None:
            assert value is None
        else:
            # a number; LibreOffice keeps 15 significant digits (0.000…0123456789012345678…)
            assert isinstance(value, int | float)
            assert value == pytest.approx(float(Decimal(exact)), rel=1e-14)
    assert got["6371", "2024-08", "2"] == 7.1
    assert got["6371", "2024-Q1", "1"] == -0.47
    assert got["6300", "2023", "3"] == 683244

    head, *rows = wide
    assert head == [
        "region_code", "region_name", "jenis_kelamin_code", "jenis_kelamin", "unit",
        "2023", "2024-01", "2024-Q1", "2024", "2024-Q3", "2024-S2", "2024-08",
    ]  # fmt: skip
    cells = {
        (row[0], period, row[2]): value
        for row in rows
        for period, value in zip(head[5:], row[5:], strict=True)
        if value is not None
    }
    assert cells.keys() == {key for key, value in CELLS.items() if value is not None}
    assert cells["6371", "2024-08", "2"] == 7.1

    head, *rows = hard
    assert [row[1:6] for row in rows] == [
        ["0000", "Indonésia", "2024", "0514", "5-9"],
        ["6371", "Kota Banjarmasin", "2024-03", "63.71", "Lansia ≥ 60 ½"],
        ["6371", "Kota Banjarmasin", "2024-Q1", "63.71", "Lansia ≥ 60 ½"],
    ]
    assert [row[6:] for row in rows] == [
        [7.1, None, "Persen", None, "'=1+1"],  # the formula guard's apostrophe shows
        [pytest.approx(1.2345e-20, rel=1e-14), None, "'-", "*", None],
        [6, 6.9, "'-", None, None],  # a range's ends in value and value_to
    ]
    head, *rows = hard_wide
    assert head == [
        "region_code",
        "region_name",
        "umur_code",
        "umur",
        "unit",
        "2024",
        "2024-Q1",
        "2024-03",
    ]
    assert rows[0] == ["0000", "Indonésia", "0514", "5-9", "Persen", 7.1, None, None]
    assert rows[1][:5] == ["6371", "Kota Banjarmasin", "63.71", "Lansia ≥ 60 ½", "'-"]
    assert rows[1][5:] == [None, "6,0-6,9", pytest.approx(1.2345e-20, rel=1e-14)]


@pytest.fixture
def demo_client(store_url, make_app):
    env = {"OPENDATA_DATABASE_URL": store_url, "OPENDATA_CATALOG_DIR": ""}
    datasets = ["pengaduan-sp4n-lapor", "target-tpt-kalsel"]  # two breakdowns, flags; ranges
    result = CliRunner().invoke(cli, ["harvest", *datasets, "--offline"], env=env)
    assert result.exit_code == 0, result.output
    return make_app().test_client()


@pytest.mark.parametrize("dataset_id", ["pengaduan-sp4n-lapor", "target-tpt-kalsel"])
def test_pandas_reads_the_demo_catalog_as_the_plain_csv_says(demo_client, dataset_id):
    url = f"/api/v1/datasets/{dataset_id}/observations.csv"
    plain = pd.read_csv(io.BytesIO(body(demo_client.get(url))), dtype=str, keep_default_na=False)
    excel = pd.read_csv(
        io.BytesIO(body(demo_client.get(f"{url}?profile=excel-id"))),
        sep=";",
        decimal=",",
        encoding="utf-8-sig",
        dtype={name: str for name in plain.columns if not name.startswith("value")},
        keep_default_na=False,
        na_values={"value": [""], "value_to": [""]},
    )
    assert list(excel.columns) == list(plain.columns)
    codes = [name for name in plain.columns if name.endswith("_code")]
    excel = text_codes(excel, *codes, "period")
    texts = [name for name in plain.columns if not name.startswith("value")]
    assert excel[texts].equals(plain[texts])  # codes, labels, flags, notes: as the plain CSV
    for name in ("value", "value_to"):
        if name in plain:
            assert excel[name].dtype in ("int64", "float64")  # numbers, not text
            exact = [float(Decimal(v)) if v else None for v in plain[name]]
            assert [None if pd.isna(v) else v for v in excel[name]] == exact


def test_history_has_the_profile_too(client):
    response = client.get(f"{URL}?profile=excel-id&updated_after=2020-01-01T00:00:00Z")
    data = body(response)
    assert data.startswith(b"\xef\xbb\xbfdataset;region_code;")
    assert b";change;updated_at\r\n" in data
    assert b';"=""6371""";' in data and b";7,10;" in data
    as_of = client.get(f"{URL}?profile=excel-id&layout=wide&as_of=2099-01-01")
    assert as_of.status_code == 400  # in the future: the same checks as the long CSV
