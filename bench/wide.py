"""Wide CSV, Excel CSV and JSON-stat against the long CSV of the same query
(``python bench/wide.py``): time and rows/s of whole downloads, medians of five.

The query is the bench store's largest dataset, ``bench-ketenagakerjaan-bulanan`` (298,620
observations, 553 regions x two dimensions of three values x 60 months: a wide table of 4,977
rows and 60 period columns; ``bench/api/generate.py`` makes the store, cached). Each download
goes through the app in-process (Flask's test client, the body read to its end) in a process of
its own, the app made and its caches warm with a one-row request of the same URL form first;
the process's CPU time of the download (the app, the writer and SQLite all run in it: less
moved by other load than wall time) and its peak resident memory above the memory before the
request are reported too. The formats take turns, round after round, so that a slower spell of
the shared machine falls on all of them: compare the ratios to the long CSV of one run, not
times of different runs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATASET = "bench-ketenagakerjaan-bulanan"
#: name -> (path suffix, query); the first is the reference
FORMATS = {
    "csv": ("csv", ""),
    "csv-wide": ("csv", "layout=wide"),
    "csv-excel-id": ("csv", "profile=excel-id"),
    "csv-wide-excel-id": ("csv", "layout=wide&profile=excel-id"),
    "jsonstat": ("jsonstat", ""),
}
ROUNDS = 5


def _status_mib(field: str) -> float:
    """A memory figure of this process (Linux ``/proc/self/status``: ``VmRSS``, ``VmHWM``), MiB.

    ``VmHWM`` rather than ``ru_maxrss``: the latter survives ``exec``, so a child started by a
    parent that grew large (the store generation) would report the parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(store: Path, name: str) -> dict:
    """Download the dataset as ``name`` once in this process: time, size, memory."""
    from opendata import create_app

    suffix, query = FORMATS[name]
    app = create_app({"DATABASE_URL": f"sqlite:///{store}", "CATALOG_DIR": "/nonexistent"})
    client = app.test_client()
    url = f"/api/v1/datasets/{DATASET}/observations.{suffix}?{query}"
    warm = client.get(f"{url}&region=6300&from=2099")  # the app's caches, the writer's imports
    assert warm.status_code == 200, warm.get_data(as_text=True)
    before = _status_mib("VmRSS")
    started, cpu = time.perf_counter(), time.process_time()
    response = client.get(url)
    size = sum(len(chunk) for chunk in response.response)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = _status_mib("VmHWM")
    assert response.status_code == 200
    return {"seconds": seconds, "cpu": cpu, "bytes": size, "peak_above_mib": peak - before}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", choices=FORMATS, help=argparse.SUPPRESS)  # a child's format
    parser.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.store, args.one)))
        return
    from bench.api.generate import ensure_store
    from bench.xlsx import dataset_rows

    store = ensure_store()
    rows = dataset_rows(store)
    runs: dict[str, list[dict]] = {name: [] for name in FORMATS}
    for _ in range(ROUNDS):
        for name in FORMATS:
            child = [sys.executable, __file__, "--one", name, "--store", str(store)]
            done = subprocess.run(child, check=True, capture_output=True, text=True)
            runs[name].append(json.loads(done.stdout))
    reference = statistics.median(r["seconds"] for r in runs["csv"])
    reference_cpu = statistics.median(r["cpu"] for r in runs["csv"])
    results = []
    for name, done in runs.items():
        seconds = statistics.median(r["seconds"] for r in done)
        cpu = statistics.median(r["cpu"] for r in done)
        results.append(
            {
                "format": name,
                "rows": rows,
                "seconds": round(seconds, 2),
                "runs": [round(r["seconds"], 2) for r in done],
                "rows_per_s": round(rows / seconds),
                "time_vs_csv": round(seconds / reference, 2),
                "cpu_seconds": round(cpu, 2),
                "cpu_rows_per_s": round(rows / cpu),
                "cpu_vs_csv": round(cpu / reference_cpu, 2),
                "bytes": done[0]["bytes"],
                "peak_above_mib": round(max(r["peak_above_mib"] for r in done), 1),
            }
        )
    for r in results:
        print(
            f"{r['format']:>17}: {r['rows']:,} observations in {r['seconds']} s (median of "
            f"{r['runs']}) = {r['rows_per_s']:,} rows/s, {r['time_vs_csv']}x the long CSV's "
            f"time; CPU {r['cpu_seconds']} s = {r['cpu_rows_per_s']:,} rows/s, "
            f"{r['cpu_vs_csv']}x the CSV's; {r['bytes'] / 2**20:.1f} MiB; "
            f"peak +{r['peak_above_mib']} MiB"
        )
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "wide.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
