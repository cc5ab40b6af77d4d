"""Harvest benchmark (a measurement, not a test): `make bench` or `python bench/run.py`.

Whole-process figures, medians of several runs, all measured in the same go on the same machine:

1. **ingest**: `opendata harvest bench-synthetic --offline` into a fresh SQLite store — the real
   command line, the real BPS harvester (file transport, JSON decoding, key decoding), the real
   writer — against a **reference** process that `executemany`s the very same observation rows
   into the same observation table (same DDL and indexes) with the stdlib `sqlite3` module.
   Target: ingest observations/s >= 40 % of the reference's rows/s.
2. **re-harvest**: the same command again on the harvested store (nothing changed upstream).
   Target: <= 25 % of the first harvest's time.

The synthetic table is a BPS `list?model=data` body in BPS's own format: every province and
regency of the region reference as rows, sex (3 values) as columns, months plus the annual
total as sub-periods, over several years, values with two decimals.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harvesters.transport import snapshot_filename  # noqa: E402
from opendata.regions import RegionIndex  # noqa: E402

DATASET = "bench-synthetic"
VAR = 9001
MONTHS = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
]


def synthetic_bodies(years: list[int], seed: int = 63) -> dict[str, str]:
    """BPS bodies for ``years`` in windows of three (domain 0000's limit): {file name: JSON}."""
    rng = random.Random(seed)
    rows = [
        {"val": int(r.code), "label": r.bps_name or r.name}
        for r in RegionIndex.reference()
        if r.level in ("province", "regency")
    ]
    turvar = [
        {"val": 1001, "label": "Laki-laki"},
        {"val": 1002, "label": "Perempuan"},
        {"val": 1003, "label": "Jumlah"},
    ]
    turtahun = [{"val": i + 1, "label": m} for i, m in enumerate(MONTHS)]
    turtahun.append({"val": 13, "label": "Tahunan"})
    bodies = {}
    for start in range(0, len(years), 3):
        window = years[start : start + 3]
        tahun = [{"val": y - 1900, "label": str(y)} for y in window]
        cells = {}
        for row in rows:
            for tv in turvar:
                for th in tahun:
                    for tt in turtahun:
                        key = f"{row['val']}{VAR}{tv['val']}{th['val']}{tt['val']}"
                        cells[key] = f"{rng.randint(0, 99999)}.{rng.randint(0, 99):02d}"
        body = {
            "status": "OK",
            "data-availability": "available",
            "last_update": "2026-11-01 00:00:00",
            "subject": [{"val": 1, "label": "Benchmark"}],
            "var": [
                {
                    "val": VAR,
                    "label": "Synthetic indicator",
                    "unit": "Persen",
                    "subj": "Benchmark",
                    "def": "",
                    "decimal": 2,
                    "note": "",
                }
            ],
            "turvar": turvar,
            "labelvervar": "Provinsi/Kabupaten/Kota",
            "vervar": rows,
            "tahun": tahun,
            "turtahun": turtahun,
            "related": [],
        }
        # numbers written as JSON numbers, exactly like BPS does
        text = json.dumps(body)[:-1] + ', "datacontent": {'
        text += ", ".join(f'"{k}": {v}' for k, v in cells.items()) + "}}"
        th = f"{window[0] - 1900}:{window[-1] - 1900}" if len(window) > 1 else str(window[0] - 1900)
        name = snapshot_filename({"model": "data", "domain": "0000", "var": str(VAR), "th": th})
        bodies[name] = text
    return bodies


def prepare(work: Path, years: list[int]) -> dict:
    catalog = work / "catalog"
    snapshots = catalog / "snapshots" / DATASET
    snapshots.mkdir(parents=True)
    for name, text in synthetic_bodies(years).items():
        (snapshots / name).write_text(text, encoding="utf-8")
    (catalog / f"{DATASET}.yaml").write_text(
        f"id: {DATASET}\ntitle: Synthetic benchmark table\nsource: bps\n"
        f'bps: {{domain: "0000", var: {VAR}, years: "{years[0]}-{years[-1]}"}}\n'
        "dimensions: {turvar: jenis_kelamin}\n",
        encoding="utf-8",
    )
    template = work / "template.sqlite3"
    env = _env(catalog, template)
    subprocess.run([_opendata(), "db", "upgrade"], env=env, check=True, capture_output=True)
    return {"catalog": catalog, "template": template}


def _opendata() -> str:
    return str(Path(sys.executable).with_name("opendata"))


def _env(catalog: Path, database: Path) -> dict:
    env = dict(os.environ)
    env.update(
        OPENDATA_CATALOG_DIR=str(catalog),
        OPENDATA_DATABASE_URL=f"sqlite:///{database}",
        OPENDATA_LOG_LEVEL="WARNING",
    )
    return env


def _timed(cmd: list[str], env: dict | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def observation_rows(database: Path) -> list[tuple]:
    with sqlite3.connect(database) as conn:
        return conn.execute(
            "SELECT series_id, period, period_start, period_end, value_text, value_num, flag, "
            "note, first_seen_run_id, last_changed_run_id FROM observation ORDER BY id"
        ).fetchall()


REFERENCE = """
import pickle, sqlite3, sys
rows = pickle.load(open(sys.argv[1], "rb"))
conn = sqlite3.connect(sys.argv[2])
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=NORMAL")
conn.executemany(
    "INSERT INTO observation (series_id, period, period_start, period_end, value_text, "
    "value_num, flag, note, first_seen_run_id, last_changed_run_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    rows,
)
conn.commit()
conn.close()
"""


CHECKSUM = """
import sys, time
from datetime import UTC, datetime
from opendata import downloads
from opendata.store import make_engine
engine = make_engine("sqlite:///" + sys.argv[1])
with engine.connect() as conn:
    started = time.perf_counter()
    downloads.measure(conn, sys.argv[2], lambda: datetime.now(UTC))
    print(time.perf_counter() - started)
"""


def _checksum_seconds(db: Path) -> float:
    """Seconds the harvest's checksum step takes on ``db`` (the dataset's whole CSV hashed)."""
    out = subprocess.run(
        [sys.executable, "-c", CHECKSUM, str(db), DATASET],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return float(out.stdout.strip())


def measure(runs: int, years: list[int]) -> dict:
    """Medians of ``runs`` first harvests, re-harvests and reference inserts of one table."""
    with tempfile.TemporaryDirectory(prefix="opendata-bench-") as tmp:
        work = Path(tmp)
        paths = prepare(work, years)
        harvest = [_opendata(), "harvest", DATASET, "--offline"]
        first, again, reference, checksum = [], [], [], []
        rows_pickle = work / "rows.pickle"
        for i in range(runs):
            db = work / f"run{i}.sqlite3"
            shutil.copy(paths["template"], db)
            env = _env(paths["catalog"], db)
            first.append(_timed(harvest, env))
            checksum.append(_checksum_seconds(db))
            again.append(_timed(harvest, env))
            if i == 0:
                rows = observation_rows(db)
                rows_pickle.write_bytes(pickle.dumps(rows))
            ref_db = work / f"ref{i}.sqlite3"
            shutil.copy(paths["template"], ref_db)  # the same table, indexes and pragmas, empty
            reference.append(
                _timed([sys.executable, "-c", REFERENCE, str(rows_pickle), str(ref_db)])
            )
    n = len(rows)
    m_first, m_again, m_ref = map(statistics.median, (first, again, reference))
    m_sum = statistics.median(checksum)
    return {
        "years": len(years),
        "observations": n,
        "runs": runs,
        "harvest_s": round(m_first, 3),
        "reharvest_s": round(m_again, 3),
        "reference_executemany_s": round(m_ref, 3),
        "harvest_obs_per_s": round(n / m_first),
        "reference_rows_per_s": round(n / m_ref),
        "ingest_vs_reference": round(m_ref / m_first, 3),
        # the first harvest also writes the dataset's whole CSV into its SHA-256 (the download
        # checksum, opendata/downloads.py): the same work timed alone, and the ingest without it
        "checksum_s": round(m_sum, 3),
        "ingest_without_checksum_vs_reference": round(m_ref / (m_first - m_sum), 3),
        "reharvest_vs_harvest": round(m_again / m_first, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="harvest ingest benchmark")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--years",
        default="6,12",
        help="sizes of the synthetic table, in years (each year: 552 regions x 3 x 13 cells)",
    )
    args = parser.parse_args()
    reports = []
    for count in (int(y) for y in args.years.split(",")):
        reports.append(measure(args.runs, list(range(2025 - count + 1, 2026))))
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "harvest.json").write_text(json.dumps(reports, indent=2) + "\n")
    keys = list(reports[0])
    width = max(map(len, keys))
    for key in keys:
        print(f"{key:<{width}}  " + "  ".join(f"{r[key]:>12}" for r in reports))
    for r in reports:
        print(
            f"{r['observations']} observations: ingest {r['ingest_vs_reference']:.0%} of raw "
            f"executemany (target >= 40%), {r['ingest_without_checksum_vs_reference']:.0%} "
            f"without the download checksum ({r['checksum_s']} s); unchanged re-harvest "
            f"{r['reharvest_vs_harvest']:.0%} of the first (target <= 25%)"
        )


if __name__ == "__main__":
    main()
