"""XLSX against the long CSV of the same query: rows/s and peak memory (``python bench/xlsx.py``).

The query is the bench store's largest dataset, ``bench-ketenagakerjaan-bulanan`` (298,620
observations, two dimensions; ``bench/api/generate.py`` makes the store, cached). Each format is
downloaded once through the app in-process (Flask's test client, the body read to its end) in a
process of its own, so that each peak resident memory is its format's: the peak is reported
above the process's resident memory just before the request (the app made, its caches warm with
a one-row request of the same format), and whole. Times are wall clock on a shared machine:
compare the two formats of one run, not runs of different days.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATASET = "bench-ketenagakerjaan-bulanan"
FORMATS = ("csv", "xlsx")


def _rss_mib() -> float:
    """This process's resident memory now (Linux), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(store: Path, suffix: str) -> dict:
    """Download the dataset in ``suffix`` once in this process: time, size, rows, memory."""
    from opendata import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{store}", "CATALOG_DIR": "/nonexistent"})
    client = app.test_client()
    url = f"/api/v1/datasets/{DATASET}/observations.{suffix}"
    warm = client.get(f"{url}?region=6300&from=2099")  # the app's caches, the writer's imports
    assert warm.status_code == 200, warm.get_data(as_text=True)
    before = _rss_mib()
    started = time.perf_counter()
    response = client.get(url)
    size = sum(len(chunk) for chunk in response.response)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert response.status_code == 200
    rows = dataset_rows(store)
    return {
        "format": suffix,
        "rows": rows,
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "bytes": size,
        "rss_before_mib": round(before, 1),
        "peak_rss_mib": round(peak, 1),
        "peak_above_mib": round(peak - before, 1),
    }


def dataset_rows(store: Path) -> int:
    import sqlite3

    with sqlite3.connect(store) as conn:
        return conn.execute(
            "SELECT count(*) FROM observation o JOIN series s ON s.id = o.series_id "
            "WHERE s.dataset_id = ? AND s.retired_run_id IS NULL AND o.withdrawn_run_id IS NULL",
            (DATASET,),
        ).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", choices=FORMATS, help=argparse.SUPPRESS)  # a child's format
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.store, args.one)))
        return
    from bench.api.generate import ensure_store

    store = ensure_store()
    results = []
    for suffix in FORMATS:
        child = [sys.executable, __file__, "--one", suffix, "--store", str(store)]
        done = subprocess.run(child, check=True, capture_output=True, text=True)
        results.append(json.loads(done.stdout))
    for r in results:
        print(
            f"{r['format']:>4}: {r['rows']:,} rows in {r['seconds']} s = {r['rows_per_s']:,} "
            f"rows/s, {r['bytes'] / 2**20:.1f} MiB; peak RSS {r['peak_rss_mib']} MiB "
            f"(+{r['peak_above_mib']} MiB over {r['rss_before_mib']} MiB before the request)"
        )
    csv, xlsx = results
    print(f"xlsx/csv time: {xlsx['seconds'] / csv['seconds']:.1f}x")
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "xlsx.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
