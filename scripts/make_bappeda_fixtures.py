"""Write the XLSX fixtures of the spreadsheet tests (tests/fixtures/bappeda/*.xlsx).

They are ours, written in the shapes Bappeda's files have (a title row, a two-row header with
merged cells, comma decimals typed as text, a total row, a signature block below the table,
number formats); the figures are made up for the tests and are no published statistics. Run it
after changing a fixture: ``.venv/bin/python scripts/make_bappeda_fixtures.py``. openpyxl writes
the same cells the same way, so the files only change when this script does.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from openpyxl import Workbook

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "bappeda"
#: the workbook's own creation date (openpyxl would write today's)
CREATED = datetime(2026, 1, 1)


def road_length(path: Path) -> None:
    """The worked example of docs/harvesters.md: sheet ``jalan`` (a notes sheet comes first)."""
    book = Workbook()
    notes = book.active
    notes.title = "catatan"
    notes["A1"] = "Lembar ini bukan tabel."
    sheet = book.create_sheet("jalan")
    sheet["A1"] = "Panjang Jalan menurut Kabupaten/Kota dan Kelas Jalan (km)"
    for column, text in zip("ABC", ("No", "Kabupaten/Kota", "Kelas Jalan"), strict=True):
        sheet[f"{column}2"] = text
        sheet.merge_cells(f"{column}2:{column}3")
    sheet["D2"] = "Tahun"
    sheet.merge_cells("D2:E2")
    sheet["D3"], sheet["E3"] = 2022, "2023"
    rows = [
        (1, "Tanah Laut", "Kelas  I", "1.234,50", "1.240,00"),
        (2, "Kota Baru", "Kelas  I", "980,25*", "-"),
        (None, "Jumlah", "Jumlah", "2.214,75", "\u2026"),
    ]
    for offset, row in enumerate(rows):
        for column, value in zip("ABCDE", row, strict=True):
            sheet[f"{column}{4 + offset}"] = value
    sheet["A8"] = "Sumber: Dinas PUPR Provinsi Kalimantan Selatan"
    sheet["A9"] = "Kepala Bappeda,"
    sheet["A10"] = "NIP 19700101 199001 1 001"
    save(book, path)


def numbers(path: Path) -> None:
    """Numeric cells and their formats, codes as floats, a region merged over two rows."""
    book = Workbook()
    sheet = book.active
    sheet.title = "angka"
    sheet.append(["Kode", "Wilayah", "Jenis Kelamin", 2022.0, "2023"])
    data = [
        (6371.0, "Kota Banjarmasin", "Laki-laki", (7.1, "0.00"), (683244, "#,##0")),
        (None, None, "Perempuan", (70.1, "General"), (0.0712, "0.00%")),
        (6372.0, "Kota Banjarbaru", "Laki-laki", (11130.0, "#,##0"), (12.5, "0.0#")),
        (None, None, "Perempuan", (1 / 3, "General"), (7.125, "0.00")),
    ]
    for offset, (code, name, sex, *values) in enumerate(data):
        number = 2 + offset
        sheet[f"A{number}"], sheet[f"B{number}"], sheet[f"C{number}"] = code, name, sex
        for column, (value, number_format) in zip("DE", values, strict=True):
            sheet[f"{column}{number}"] = value
            sheet[f"{column}{number}"].number_format = number_format
    sheet.merge_cells("A2:A3")
    sheet.merge_cells("B2:B3")
    sheet.merge_cells("A4:A5")
    sheet.merge_cells("B4:B5")
    save(book, path)


def save(book: Workbook, path: Path) -> None:
    book.properties.created = CREATED
    book.properties.modified = CREATED
    book.save(path)


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    road_length(FIXTURES / "jalan_kabkota.xlsx")
    numbers(FIXTURES / "angka_formats.xlsx")


if __name__ == "__main__":
    main()
