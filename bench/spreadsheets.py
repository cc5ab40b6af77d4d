"""Spreadsheet benchmark (a measurement, not a test): ``python bench/spreadsheets.py``.

A 100,000-row table (long: region code, year, a dimension of 3 values, a value with two decimals:
text with a decimal comma in the CSV, a number in the XLSX) as an XLSX sheet and as a semicolon
CSV, in a temporary folder. Each figure is the median of ``--runs`` runs in fresh processes on
the same machine:

1. **parse**: the spreadsheet harvester's ``parse`` (file sniffing, the XLSX or CSV grid, the
   table reader: numbers, regions, records) on the file's bytes, rows/s;
2. **reference**: reading the same file's cells with the library alone — openpyxl read-only
   ``iter_rows(values_only=True)``, or ``csv.reader`` — rows/s. The ratio parse/reference is
   what the reader costs over touching every cell once.
3. **memory**: the peak traced memory (``tracemalloc``, imports included) of streaming the grid
   alone, and of the reference, at 10,000 and at 100,000 rows: flat means the grid does not grow
   with the sheet (the records a parse returns do, by nature). openpyxl's read-only parser keeps
   each row's emptied XML element until the sheet ends (about 100 bytes a row), which the
   reference shows too.

Writes ``bench/out/spreadsheets.json``.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
CODES = ["6301", "6302", "6303", "6304", "6305", "6306", "6307", "6308", "6309", "6310", "6311"]
TABLE = {
    "region": {"column": "kode", "by": "code"},
    "period": {"column": "tahun"},
    "value": {"column": "nilai"},
    "dimensions": [{"column": "jenis", "id": "jenis"}],
    "decimal": ",",
    "indicator": {"code": "x", "name": "X"},
}


def rows(count: int):
    """Unique (code, year, kind, value) rows."""
    kinds = ("Laki-laki", "Perempuan", "Jumlah")
    for i in range(count):
        kind = kinds[i % 3]
        code = CODES[(i // 3) % len(CODES)]
        year = 1000 + i // (3 * len(CODES))
        yield code, year, kind, f"{(i % 100000) / 100:.2f}".replace(".", ",")


def write_files(folder: Path, count: int) -> tuple[Path, Path]:
    from openpyxl import Workbook

    csv_path, xlsx_path = folder / f"t{count}.csv", folder / f"t{count}.xlsx"
    with open(csv_path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file, delimiter=";")
        writer.writerow(["kode", "tahun", "jenis", "nilai"])
        writer.writerows(rows(count))
    book = Workbook(write_only=True)
    sheet = book.create_sheet("data")
    sheet.append(["kode", "tahun", "jenis", "nilai"])
    for code, year, kind, value in rows(count):  # numbers as numbers, as a sheet holds them
        sheet.append([code, year, kind, float(value.replace(",", "."))])
    book.save(xlsx_path)
    return csv_path, xlsx_path


def child(mode: str, path: str) -> None:
    """One measurement in this process: print JSON {seconds, rows, peak_kb}."""
    import tracemalloc

    sys.path.insert(0, str(ROOT))
    body = Path(path).read_bytes()
    traced = mode.endswith("-memory")
    mode = mode.removesuffix("-memory")
    if traced:
        tracemalloc.start()
    started = time.perf_counter()
    count, peak = 0, 0
    if mode == "reference-csv":
        with open(path, newline="", encoding="utf-8") as file:
            count = sum(1 for _ in csv.reader(file, delimiter=";")) - 1
    elif mode == "reference-xlsx":
        import io

        import openpyxl

        book = openpyxl.load_workbook(io.BytesIO(body), read_only=True, data_only=True)
        count = sum(1 for _ in book.worksheets[0].iter_rows(values_only=True)) - 1
        book.close()
    elif mode == "parse":
        from harvesters.spreadsheet import SpreadsheetHarvester
        from opendata.model import DatasetSpec
        from opendata.regions import RegionIndex

        regions = RegionIndex.reference()
        spec = DatasetSpec(
            "b",
            {"id": "b"},
            "spreadsheet",
            {"path": Path(path).name},
            Path(path).parent / "b.yaml",
            extra={"table": TABLE},
        )
        harvester = SpreadsheetHarvester({}, offline=True)
        started = time.perf_counter()
        result = harvester.parse(spec, harvester.fetch(spec, lambda p: None), regions)
        count = len(result.records)
    elif mode == "grid":
        from harvesters import spreadsheet_files as files

        if files.kind_of(body, path) == "xlsx":
            grid, _ = files.xlsx_grid(body, path, None)
        else:
            grid, _ = files.csv_grid(body, path, ";", None)
        count = sum(1 for _ in grid.rows) - 1
    if traced:
        peak = tracemalloc.get_traced_memory()[1] // 1024
        tracemalloc.stop()
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "rows": count, "peak_kb": peak}))


def measure(mode: str, path: Path, runs: int) -> dict:
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, __file__, "--child", mode, str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(json.loads(out.stdout))
    seconds = statistics.median(r["seconds"] for r in results)
    return {
        "seconds": round(seconds, 3),
        "rows": results[0]["rows"],
        "rows_per_s": round(results[0]["rows"] / seconds),
        "peak_kb": max(r["peak_kb"] for r in results),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    report: dict = {"rows": args.rows}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        small_csv, small_xlsx = write_files(folder, args.rows // 10)
        big_csv, big_xlsx = write_files(folder, args.rows)
        for kind, big, small in (("csv", big_csv, small_csv), ("xlsx", big_xlsx, small_xlsx)):
            parse = measure("parse", big, args.runs)
            reference = measure(f"reference-{kind}", big, args.runs)
            report[kind] = {
                "parse": parse,
                "reference": reference,
                "parse_vs_reference": round(parse["rows_per_s"] / reference["rows_per_s"], 2),
                "grid_peak_kb": {
                    str(args.rows // 10): measure("grid-memory", small, 1)["peak_kb"],
                    str(args.rows): measure("grid-memory", big, 1)["peak_kb"],
                },
                "reference_peak_kb": {
                    str(args.rows // 10): measure(f"reference-{kind}-memory", small, 1)["peak_kb"],
                    str(args.rows): measure(f"reference-{kind}-memory", big, 1)["peak_kb"],
                },
            }
            print(kind, json.dumps(report[kind]))
    OUT.mkdir(exist_ok=True)
    (OUT / "spreadsheets.json").write_text(json.dumps(report, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
