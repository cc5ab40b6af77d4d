"""XLSX downloads, read back as people do: openpyxl (Excel's cells) and pandas.read_excel."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from opendata.cli import cli
from opendata.formats import xlsx
from opendata.formats.xlsx import excel_number
from tests.api.conftest import CELLS

URL = "/api/v1/datasets/demo/observations.xlsx"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def book(response) -> openpyxl.Workbook:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Type"] == XLSX
    return openpyxl.load_workbook(io.BytesIO(response.get_data()))


def rows(sheet) -> list[dict]:
    header, *body = sheet.iter_rows(values_only=True)
    return [dict(zip(header, row, strict=True)) for row in body]


def metadata(workbook) -> dict:
    return dict(workbook["metadata"].iter_rows(values_only=True))


def test_a_workbook_has_the_csv_columns_exact_numbers_and_text_codes(client):
    response = client.get(URL)
    assert response.headers["Content-Disposition"] == 'attachment; filename="demo.xlsx"'
    workbook = book(response)
    assert workbook.sheetnames == ["data", "metadata"]
    sheet = workbook["data"]
    assert sheet.freeze_panes == "A2"
    got = rows(sheet)
    assert list(got[0]) == [
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
    cells = {(r["region_code"], r["period"], r["jenis_kelamin_code"]): r["value"] for r in got}
    assert cells.keys() == CELLS.keys()
    for key, value in CELLS.items():
        if value is None:
            assert cells[key] is None
        elif len(Decimal(value).normalize().as_tuple().digits) > 15:  # more than Excel keeps
            assert cells[key] == value
        else:
            assert isinstance(cells[key], int | float) and Decimal(str(cells[key])) == Decimal(
                value
            )
    # every value shows the decimals the source wrote: 7.10 is 7.1 shown 7.10
    formats = {
        (row[1].value, row[3].value, row[4].value): row[6].number_format
        for row in sheet.iter_rows(min_row=2)
    }
    assert formats["6371", "2024-08", "2"] == "0.00"
    assert formats["6371", "2024-Q1", "1"] == "0.00"
    assert formats["6300", "2023", "3"] == "0"
    assert formats["6372", "2024-Q1", "2"] == "General"  # a text cell
    assert all(isinstance(r[key], str) for r in got for key in ("region_code", "period"))
    widths = sheet.column_dimensions
    assert widths["C"].width > widths["D"].width > 0  # names wider than periods


def test_pandas_reads_codes_as_text_and_values_as_numbers(client):
    # pandas reads a text cell of digits as a number unless told (docs/api.md says so)
    text = {"region_code": str, "period": str, "jenis_kelamin_code": str}
    frame = pd.read_excel(io.BytesIO(client.get(URL).get_data()), sheet_name="data", dtype=text)
    assert set(frame["region_code"]) == {region for region, _, _ in CELLS}
    assert set(frame["period"]) == {period for _, period, _ in CELLS}
    row = frame[(frame["region_code"] == "6371") & (frame["period"] == "2024-08")]
    assert set(row["value"]) == {4.02, 7.1}


def test_the_metadata_sheet_says_what_whose_and_which_query(client):
    info = metadata(book(client.get(f"{URL}?region=6371&dim.jenis_kelamin=1")))
    assert info["dataset"] == "demo"
    assert info["title"] == "Demo"
    assert info["source"] == "Fake source"
    assert info["unit"] == "Jiwa"
    assert info["harvested at"].endswith("Z")
    assert info["API URL"] == f"{URL}?region=6371&dim.jenis_kelamin=1"
    assert {"description", "source URL", "license", "attribution", "values"} <= info.keys()


def test_the_filters_of_the_csv_apply(client):
    response = client.get(f"{URL}?region=63.71&from=2024-Q1&dim.jenis_kelamin=1")
    assert response.headers["Content-Disposition"] == (
        'attachment; filename="demo_6371_from-2024-Q1_jenis_kelamin-1.xlsx"'
    )
    got = rows(book(response)["data"])
    want = {
        (region, period)
        for (region, period, sex) in CELLS
        if region == "6371" and sex == "1" and period != "2024"  # 2024 started before Q1
    }
    want.add(("6371", "2024"))  # the year 2024 starts with Q1
    assert {(r["region_code"], r["period"]) for r in got} == want
    assert {r["jenis_kelamin"] for r in got} == {"Laki-laki"}


def test_an_empty_answer_is_a_workbook_with_its_header(client):
    got = book(client.get(f"{URL}?from=2030"))["data"]
    assert [c.value for c in next(got.iter_rows())][:2] == ["dataset", "region_code"]
    assert got.max_row == 1


def test_bad_filters_and_changes_are_400_problems(client):
    response = client.get(f"{URL}?region=9999")
    assert response.status_code in (400, 404)
    assert response.headers["Content-Type"] == "application/problem+json"
    response = client.get(f"{URL}?updated_after=2024-01-01")
    assert response.status_code == 400
    assert "updated_after" in response.json["errors"]


def test_a_query_beyond_a_sheet_is_a_413_pointing_to_the_csv(client, monkeypatch):
    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)
    response = client.get(f"{URL}?region=6371")
    assert response.status_code == 413
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json
    assert problem["csv"] == "/api/v1/datasets/demo/observations.csv?region=6371"
    assert problem["csv"] in problem["detail"]
    assert "more than 3 observations" in problem["detail"]
    csv_rows = list(csv.DictReader(io.StringIO(client.get(problem["csv"]).get_data(as_text=True))))
    assert len(csv_rows) == sum(region == "6371" for region, _, _ in CELLS)
    assert len(rows(book(client.get(f"{URL}?region=6372"))["data"])) == 3  # 3 rows fit


def test_a_workbook_is_versioned_and_not_rebuilt_for_a_304(client):
    first = client.get(URL)
    etag = first.headers["ETag"]
    again = client.get(URL, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("7.10", (7.1, 2)),
        ("-0.47", (-0.47, 2)),
        ("683244", (683244.0, 0)),
        ("0", (0.0, 0)),
        ("123456789012345", (123456789012345.0, 0)),
        ("1234567890123456", None),  # 16 digits: Excel would round it
        ("0.000000000000000000012345678901234567", None),
        ("1E+400", None),  # beyond a double
        ("1000.000", (1000.0, 3)),
    ],
)
def test_a_value_is_a_number_only_when_excel_holds_it_exactly(text, number):
    assert excel_number(text) == number


def _harvest_demo(store_url, *datasets):
    env = {"OPENDATA_DATABASE_URL": store_url, "OPENDATA_CATALOG_DIR": ""}
    result = CliRunner().invoke(cli, ["harvest", *datasets, "--offline"], env=env)
    assert result.exit_code == 0, result.output


def test_the_demo_catalog_with_two_breakdowns_and_flags_reads_back(store_url, make_app):
    dataset = "pengaduan-sp4n-lapor"
    _harvest_demo(store_url, dataset, "pdrb-per-kapita-provinsi")
    client = make_app().test_client()
    url = f"/api/v1/datasets/{dataset}/observations"
    wanted = list(csv.DictReader(io.StringIO(client.get(f"{url}.csv").get_data(as_text=True))))
    workbook = book(client.get(f"{url}.xlsx"))
    got = rows(workbook["data"])
    assert list(got[0]) == list(wanted[0])  # the CSV's columns: cakupan and status
    assert [r["flag"] for r in got] == [r["flag"] or None for r in wanted]
    assert any(r["flag"] for r in got) and any(r["note"] for r in got)
    assert [r["status_code"] for r in got] == [r["status_code"] for r in wanted]
    assert [Decimal(str(r["value"])) for r in got] == [Decimal(r["value"]) for r in wanted]
    info = metadata(workbook)
    assert info["license"] and info["attribution"]
    frame = pd.read_excel(
        io.BytesIO(client.get(f"{url}.xlsx").get_data()), sheet_name="data", dtype=str
    )
    assert list(frame["flag"].fillna("")) == [r["flag"] for r in wanted]
    assert list(frame["region_code"]) == [r["region_code"] for r in wanted]
    # Indonesia's code 0000 stays text; 35342.1 as published, shown with one decimal
    pdrb = "/api/v1/datasets/pdrb-per-kapita-provinsi/observations.xlsx?dim.harga=531"
    sheet = book(client.get(pdrb))["data"]
    values = {(r[1].value, r[3].value): r[6] for r in sheet.iter_rows(min_row=2)}
    assert "0000" in {code for code, _ in values}
    shown = [cell for cell in values.values() if cell.value == 35342.1]
    assert shown and shown[0].number_format == "0.0"
    assert metadata(book(client.get(pdrb)))["source URL"] == "https://webapi.bps.go.id"


def test_as_of_serves_the_workbook_of_an_instant(client):
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    response = client.get(f"{URL}?as_of={now}")
    workbook = book(response)
    assert len(rows(workbook["data"])) == len(CELLS)
    assert metadata(workbook)["as of"] == response.headers["Opendata-As-Of"]
    before = book(client.get(f"{URL}?as_of=2020-01-01"))  # before the first harvest: empty
    assert before["data"].max_row == 1
