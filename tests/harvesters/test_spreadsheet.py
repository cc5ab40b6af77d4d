"""``source: spreadsheet``: files told apart by their bytes, CSV and XLSX read, fetched or kept."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
import requests

from harvesters.exceptions import ParseError, UpstreamError
from harvesters.spreadsheet import SpreadsheetHarvester
from harvesters.spreadsheet_files import sniff_delimiter
from opendata.model import DatasetSpec
from tests.harvesters.conftest import replay_session

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bappeda"
PPK_TABLE = {
    "skip_rows": 2,
    "region": {"column": "Kabupaten/Kota"},
    "periods": "across",
    "decimal": ",",
    "marks": {"*": "angka sementara", "r": "angka revisi"},
    "indicator": {"code": "ppk", "name": "Pengeluaran per kapita", "unit": "Ribu Rupiah"},
}
ROADS_TABLE = {
    "skip_rows": 1,
    "header_rows": 2,
    "region": {"column": "Kabupaten/Kota", "by": "name", "within": "6300"},
    "periods": "across",
    "dimensions": [{"column": "Kelas Jalan", "id": "kelas_jalan", "label": "Kelas jalan"}],
    "decimal": ",",
    "marks": {"*": "angka sementara"},
    "indicator": {"code": "panjang_jalan", "name": "Panjang jalan", "unit": "km"},
}


def make_spec(folder: Path, query: dict, table: dict, dataset_id: str = "demo") -> DatasetSpec:
    return DatasetSpec(
        id=dataset_id,
        title={"id": "Demo"},
        source="spreadsheet",
        query=query,
        path=folder / f"{dataset_id}.yaml",
        extra={"table": table},
    )


def harvest(spec, regions, **options):
    harvester = SpreadsheetHarvester({}, **options)
    kept = []
    payloads = harvester.fetch(spec, kept.append)
    assert kept == payloads
    return harvester.parse(spec, payloads, regions)


def rows_of(result):
    return [(r.region, r.period, r.dimensions, r.value, r.flag, r.note) for r in result.records]


def test_the_worked_example_of_the_docs(regions):
    """docs/harvesters.md's example: title, merged two-row header, Jumlah row, signature."""
    spec = make_spec(FIXTURES, {"path": "jalan_kabkota.xlsx", "sheet": "jalan"}, ROADS_TABLE)
    result = harvest(spec, regions, offline=True)
    i, total = (("kelas_jalan", "kelas_i"),), (("kelas_jalan", "_T"),)
    assert rows_of(result) == [
        ("6301", "2022", i, Decimal("1234.50"), None, None),
        ("6301", "2023", i, Decimal("1240.00"), None, None),
        ("6302", "2022", i, Decimal("980.25"), "*", "angka sementara"),
        ("6302", "2023", i, None, "M", None),
        ("6300", "2022", total, Decimal("2214.75"), None, None),
        ("6300", "2023", total, None, "L", None),
    ]
    assert [(v.code, v.label, v.is_total) for v in result.dimensions[0].values] == [
        ("kelas_i", "Kelas I", False),
        ("_T", "Jumlah", True),
    ]
    log = "\n".join(result.messages)
    assert (
        "jalan_kabkota.xlsx, sheet 'jalan': the table ends at row 7 (an empty row); 3 non-empty "
        "row(s) below it (rows 8-10" in log
    )
    assert "NIP" not in log and "19700101" not in log and "PUPR" not in log


def test_the_first_sheet_is_the_default_and_a_missing_sheet_is_named(regions):
    spec = make_spec(FIXTURES, {"path": "jalan_kabkota.xlsx"}, ROADS_TABLE)
    with pytest.raises(ParseError, match=r"jalan_kabkota\.xlsx, sheet 'catatan': the table has no"):
        harvest(spec, regions, offline=True)
    spec = make_spec(FIXTURES, {"path": "jalan_kabkota.xlsx", "sheet": "Jalan"}, ROADS_TABLE)
    with pytest.raises(ParseError, match=r"has no sheet 'Jalan'; its sheets: 'catatan', 'jalan'"):
        harvest(spec, regions, offline=True)


def test_xlsx_numbers_formats_float_codes_and_merged_rows(regions):
    table = {
        "region": {"column": "Kode", "by": "code"},
        "periods": "across",
        "dimensions": [{"column": "Jenis Kelamin", "id": "jenis_kelamin"}],
        "indicator": {"code": "x", "name": "X"},
    }
    result = harvest(make_spec(FIXTURES, {"path": "angka_formats.xlsx"}, table), regions)
    got = [(r.region, r.period, r.dimensions[0][1], str(r.value)) for r in result.records]
    assert got == [
        ("6371", "2022", "laki_laki", "7.10"),
        ("6371", "2023", "laki_laki", "683244"),
        ("6371", "2022", "perempuan", "70.1"),
        ("6371", "2023", "perempuan", "7.12"),
        ("6372", "2022", "laki_laki", "11130"),
        ("6372", "2023", "laki_laki", "12.5"),
        ("6372", "2022", "perempuan", "0.3333333333333333"),
        ("6372", "2023", "perempuan", "7.13"),
    ]


def test_a_semicolon_csv_with_bom_title_rows_and_a_signature(regions):
    spec = make_spec(FIXTURES, {"path": "ppk_kabkota_semicolon.csv"}, PPK_TABLE)
    result = harvest(spec, regions, offline=True)
    assert rows_of(result) == [
        ("6301", "2023", (), Decimal("12345.67"), None, None),
        ("6301", "2024", (), Decimal("12890.12"), None, None),
        ("6302", "2023", (), Decimal("11002.00"), None, None),
        ("6302", "2024", (), None, "M", None),
        ("6371", "2023", (), Decimal("17210.50"), "*", "angka sementara"),
        ("6371", "2024", (), Decimal("17655.25"), "r", "angka revisi"),
        ("6300", "2023", (), Decimal("13000.10"), None, None),
        ("6300", "2024", (), None, "C", None),
    ]
    log = "\n".join(result.messages)
    assert "ppk_kabkota_semicolon.csv: delimiter semicolon (';') detected" in log
    assert "3 non-empty row(s) below it (rows 9-11" in log
    assert "NIP" not in log and "1968" not in log


@pytest.mark.parametrize(
    ("text", "delimiter"),
    [
        ("a,b,c\n1,2,3\n", ","),
        ("No;Indikator;Nilai\n1;PDRB;9.674.468,00\n2;IPM;71,74\n", ";"),
        ("a\tb\n1,5\t2,5\n", "\t"),
        ("Wilayah;Nilai_RLS\nTANAH LAUT;8.38\n", ";"),
        ("satu kolom\nsaja\n", ","),
    ],
)
def test_the_delimiter_is_detected(text, delimiter):
    assert sniff_delimiter(text) == delimiter


def write(tmp_path: Path, name: str, body: bytes) -> Path:
    (tmp_path / name).write_bytes(body)
    return tmp_path / name


SIMPLE = {
    "region": {"column": "Wilayah"},
    "periods": "across",
    "indicator": {"code": "x", "name": "X"},
}


def test_a_declared_encoding_and_delimiter(tmp_path, regions):
    write(
        tmp_path,
        "a.csv",
        "Wilayah|2024\nTapin|1\n".replace("|", "\t").encode("cp1252")
        + "Tanah Laut\t\u2026\n".encode("cp1252"),
    )
    spec = make_spec(tmp_path, {"path": "a.csv", "encoding": "cp1252", "delimiter": "tab"}, SIMPLE)
    result = harvest(spec, regions)
    assert rows_of(result) == [
        ("6305", "2024", (), Decimal(1), None, None),
        ("6301", "2024", (), None, "L", None),
    ]
    assert not any("detected" in m for m in result.messages)


def test_a_byte_order_mark_is_no_data_whatever_utf8_is_declared(tmp_path, regions):
    write(tmp_path, "a.csv", b"\xef\xbb\xbfWilayah,2024\nTapin,1\n")
    for encoding in (None, "UTF-8", "utf_8"):
        query = {"path": "a.csv", **({"encoding": encoding} if encoding else {})}
        result = harvest(make_spec(tmp_path, query, SIMPLE), regions)
        assert rows_of(result) == [("6305", "2024", (), Decimal(1), None, None)]


def test_a_file_the_declared_encoding_cannot_read_fails_naming_the_byte(tmp_path, regions):
    write(tmp_path, "a.csv", "Wilayah,2024\nTapin,\u2026\n".encode("cp1252"))
    with pytest.raises(ParseError, match=r"a\.csv cannot be read as ascii: byte 0x85 at offset 19"):
        harvest(make_spec(tmp_path, {"path": "a.csv", "encoding": "ascii"}, SIMPLE), regions)


def test_a_file_that_is_not_utf8_fails_saying_to_declare_its_encoding(tmp_path, regions):
    write(tmp_path, "a.csv", "Wilayah,2024\nTapin,\u2026\n".encode("cp1252"))
    with pytest.raises(
        ParseError,
        match=r"a\.csv is not UTF-8 \(byte 0x85 at offset 19\): "
        r"declare its encoding as spreadsheet\.encoding",
    ):
        harvest(make_spec(tmp_path, {"path": "a.csv"}, SIMPLE), regions)


def _zip(names: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, body in names.items():
            archive.writestr(name, body)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
            r"x\.xls is a legacy Excel 97-2003 workbook \(\.xls\), which is not read: open it in a "
            r"spreadsheet program and save it as XLSX or CSV",
        ),
        (
            b'<html xmlns:v="urn:schemas-microsoft-com:vml">\r\n<frameset rows="*,39">'
            b'<frame src="IPM_files/sheet001.htm"></frameset></html>',
            r"x\.xls is an Excel workbook saved as a web page, whose data lives in other files it "
            r"links, not a spreadsheet, although it may be named \.xls",
        ),
        (
            b"\n<!DOCTYPE html><html><body>503 Service Unavailable</body></html>",
            r"x\.xls is an HTML page \(a web page or a portal's error page\)",
        ),
        (b"%PDF-1.7\n", r"x\.xls is a PDF document"),
        (
            _zip(
                {
                    "mimetype": b"application/vnd.oasis.opendocument.spreadsheet",
                    "content.xml": b"<x/>",
                }
            ),
            r"x\.xls is an OpenDocument spreadsheet \(\.ods\)",
        ),
        (_zip({"word/document.xml": b"<x/>"}), r"x\.xls is a ZIP archive but no XLSX workbook"),
        (_zip({"xl/workbook.xml": b"<broken"}), r"x\.xls is not a readable XLSX workbook"),
    ],
)
def test_what_a_file_is_comes_from_its_bytes(tmp_path, regions, body, message):
    write(tmp_path, "x.xls", body)
    with pytest.raises(ParseError, match=message):
        harvest(make_spec(tmp_path, {"path": "x.xls"}, SIMPLE), regions)


def test_a_csv_named_xlsx_is_read_as_csv(tmp_path, regions):
    write(tmp_path, "x.xlsx", b"Wilayah,2024\nTapin,1.5\n")
    result = harvest(make_spec(tmp_path, {"path": "x.xlsx"}, SIMPLE), regions)
    assert rows_of(result) == [("6305", "2024", (), Decimal("1.5"), None, None)]


def test_a_missing_file_fails_naming_it(tmp_path, regions):
    with pytest.raises(UpstreamError, match=r"files/nope\.csv: no such file"):
        harvest(make_spec(tmp_path, {"path": "files/nope.csv"}, SIMPLE), regions)


URL = "https://satudata.example.go.id/dataset/ppk/resource/1/download/ppk%20kabkota.csv"


def test_a_url_is_fetched_with_retries_and_every_body_kept(tmp_path, regions, clock):
    session = replay_session(
        (503, "text/html", b"<html>busy</html>"),
        requests.ConnectionError("reset by peer"),
        (200, "text/csv", b"Wilayah,2024\nTapin,1.5\n"),
    )
    spec = make_spec(tmp_path, {"url": URL}, SIMPLE)
    harvester = SpreadsheetHarvester({"HTTP_RETRIES": 3}, session=session, clock=clock)
    kept = []
    payloads = harvester.fetch(spec, kept.append)
    assert [p.status for p in kept] == [503, 200]
    assert payloads == kept[-1:]
    assert clock.sleeps == [1.0, 2.0]
    assert payloads[0].params == {"url": URL}
    assert payloads[0].url == URL
    result = harvester.parse(spec, payloads, regions)
    assert rows_of(result) == [("6305", "2024", (), Decimal("1.5"), None, None)]
    assert rows_of(result) == rows_of(harvester.parse(spec, payloads, regions))


def test_a_url_answering_404_fails_at_once(tmp_path, regions, clock):
    session = replay_session((404, "text/html", b"<h1>Not Found</h1>"))
    spec = make_spec(tmp_path, {"url": URL}, SIMPLE)
    harvester = SpreadsheetHarvester({}, session=session, clock=clock)
    kept = []
    with pytest.raises(
        UpstreamError, match=r"ppk%20kabkota\.csv answered HTTP 404: '<h1>Not Found"
    ):
        harvester.fetch(spec, kept.append)
    assert len(kept) == 1 and session.replay.urls == [URL]


def test_a_url_sends_the_user_agent_setting(tmp_path, regions, clock):
    seen = []

    class Spy(requests.adapters.BaseAdapter):
        def send(self, request, **kwargs):
            seen.append(request.headers["User-Agent"])
            from harvesters.transport import build_response

            return build_response(request, 200, b"Wilayah,2024\nTapin,1\n", "text/csv")

        def close(self):
            pass

    session = requests.Session()
    session.mount("https://", Spy())
    spec = make_spec(tmp_path, {"url": URL}, SIMPLE)
    SpreadsheetHarvester({"HTTP_USER_AGENT": "kalsel-test/1"}, session=session, clock=clock).fetch(
        spec, lambda p: None
    )
    assert seen == ["kalsel-test/1"]


def test_offline_a_url_reads_the_snapshot_folder(tmp_path, regions):
    spec = make_spec(tmp_path, {"url": URL}, SIMPLE, dataset_id="ppk")
    with pytest.raises(
        UpstreamError, match=r"no snapshot file ppk kabkota\.csv in .*snapshots/ppk"
    ):
        harvest(spec, regions, offline=True)
    (tmp_path / "snapshots" / "ppk").mkdir(parents=True)
    write(tmp_path / "snapshots" / "ppk", "ppk kabkota.csv", b"Wilayah,2024\nTapin,2\n")
    assert rows_of(harvest(spec, regions, offline=True)) == [
        ("6305", "2024", (), Decimal(2), None, None)
    ]


def test_a_stale_dimension_record_does_not_cut_the_rows_short(tmp_path, regions):
    """Some writers leave ``<dimension ref="A1"/>``; read-only mode would trust it."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Wilayah", "2024"])
    book.active.append(["Tapin", 1])
    book.active.append(["Tanah Laut", 2])
    book.save(tmp_path / "good.xlsx")
    source = zipfile.ZipFile(tmp_path / "good.xlsx")
    with zipfile.ZipFile(tmp_path / "stale.xlsx", "w") as target:
        for item in source.infolist():
            body = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                body, count = re.subn(
                    rb'<dimension ref="A1:B3"\s*/>', b'<dimension ref="A1"/>', body
                )
                assert count == 1
            target.writestr(item, body)
    source.close()
    result = harvest(make_spec(tmp_path, {"path": "stale.xlsx"}, SIMPLE), regions)
    assert [(r.region, r.value) for r in result.records] == [("6305", 1), ("6301", 2)]


def test_the_harvester_modules_load_no_spreadsheet_library_store_or_web_app():
    """The catalog loader imports harvester modules: openpyxl must wait until a harvest."""
    import subprocess
    import sys

    code = "import sys, harvesters.spreadsheet; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(out.stdout.split())
    forbidden = (
        "openpyxl",
        "pandas",
        "flask",
        "opendata.store",
        "opendata.catalog",
        "opendata.api",
    )
    assert not sorted(m for m in loaded for f in forbidden if m == f or m.startswith(f + "."))
