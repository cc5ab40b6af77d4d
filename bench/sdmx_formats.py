"""SDMX-ML and SDMX-CSV against the long CSV of the same query (``python bench/sdmx_formats.py``;
not ``sdmx.py``, which would hide the sdmx package from a script in bench/).

The bench store's largest dataset, ``bench-ketenagakerjaan-bulanan`` (298,620 observations, two
dimensions; ``bench/api/generate.py`` makes the store, cached): the whole dataset as
``observations.csv`` (the reference) and ``observations?format=sdmx-csv``; and ``from=2023-07``
(89,586 observations, under SDMX-ML's limit of 100,000) as CSV, SDMX-CSV and SDMX-ML. As
``bench/xlsx.py``: each download once, in a process of its own, through the app in-process (the
body read to its end), after a one-row request of the same format (the app's caches; for SDMX,
sdmx1's import, which a web worker pays on its first SDMX request); the peak resident memory
above the process's memory before the request. Wall time and the process's CPU time: on a
shared machine compare the CPU times of one run (ratios to the CSV of the same query).
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

from bench.xlsx import DATASET, _rows, _rss_mib  # noqa: E402

#: format name -> the URL's tail after .../observations
FORMATS = {"csv": ".csv?", "sdmx-csv": "?format=sdmx-csv&", "sdmx-ml": "?format=sdmx-ml&"}
#: (format, query): the whole dataset, then a query under SDMX-ML's row limit
CASES = [
    ("csv", ""),
    ("sdmx-csv", ""),
    ("csv", "from=2023-07"),
    ("sdmx-csv", "from=2023-07"),
    ("sdmx-ml", "from=2023-07"),
]


def _cpu() -> float:
    """This process's CPU time (user and system): steadier than wall time on a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(store: Path, name: str, query: str) -> dict:
    """Download the dataset as ``name`` once in this process: time, size, rows, memory."""
    from opendata import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{store}", "CATALOG_DIR": "/nonexistent"})
    client = app.test_client()
    url = f"/api/v1/datasets/{DATASET}/observations{FORMATS[name]}"
    warm = client.get(f"{url}region=6300&from=2099")
    assert warm.status_code == 200, warm.get_data(as_text=True)
    warm.get_data()
    before = _rss_mib()
    cpu = _cpu()
    started = time.perf_counter()
    response = client.get((url + query).rstrip("?&"))
    size = sum(len(chunk) for chunk in response.response)
    seconds = time.perf_counter() - started
    cpu_seconds = _cpu() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert response.status_code == 200
    rows = _rows(store) if not query else _rows_from(store, "2023-07")
    return {
        "format": name,
        "query": query,
        "rows": rows,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "rows_per_s": round(rows / seconds),
        "bytes": size,
        "rss_before_mib": round(before, 1),
        "peak_rss_mib": round(peak, 1),
        "peak_above_mib": round(peak - before, 1),
    }


def _rows_from(store: Path, period: str) -> int:
    import sqlite3

    with sqlite3.connect(store) as conn:
        return conn.execute(
            "SELECT count(*) FROM observation o JOIN series s ON s.id = o.series_id "
            "WHERE s.dataset_id = ? AND s.retired_run_id IS NULL AND o.withdrawn_run_id IS NULL "
            "AND o.period_start >= (SELECT min(period_start) FROM observation WHERE period = ?)",
            (DATASET, period),
        ).fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", choices=FORMATS, help=argparse.SUPPRESS)  # a child's format
    parser.add_argument("--query", default="", help=argparse.SUPPRESS)
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.store, args.one, args.query)))
        return
    from bench.api.generate import ensure_store

    store = ensure_store()
    results = []
    for name, query in CASES:
        child = [sys.executable, __file__, "--one", name, "--query", query, "--store", str(store)]
        done = subprocess.run(child, check=True, capture_output=True, text=True)
        results.append(json.loads(done.stdout))
    reference = {r["query"]: r for r in results if r["format"] == "csv"}
    for r in results:
        ref = reference[r["query"]]
        print(
            f"{r['format']:>8} {r['query'] or 'all':>12}: {r['rows']:,} rows in {r['seconds']} s "
            f"({r['cpu_seconds']} s CPU: {r['cpu_seconds'] / ref['cpu_seconds']:.1f}x the CSV's) "
            f"= {r['rows_per_s']:,} rows/s, {r['bytes'] / 2**20:.1f} MiB; "
            f"peak RSS {r['peak_rss_mib']} MiB (+{r['peak_above_mib']} MiB over "
            f"{r['rss_before_mib']} MiB before the request)"
        )
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "sdmx.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
