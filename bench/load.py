"""Bounded load test (a measurement, not a test): ``python bench/load.py``.

Mixed reads against 1, then 2 gunicorn nodes on one PostgreSQL store and one Redis (the shared
response cache), for ``--seconds`` each, with a harvest that changes a figure half-way through:
JSON pages of observations (a few filters), whole and filtered CSV downloads, dataset metadata
and searches, round-robin over the nodes, from ``--clients`` threads on 127.0.0.1.

Reported per run: requests, errors (any answer but 200/304, or a failed connection: the target
is zero), requests/s, p50/p99 latency, and the CPU seconds the nodes' processes used per request
(read from /proc: on a 2-core machine the store, Redis, the nodes and this generator share the
cores, so requests/s cannot double with a second node here; CPU per request is what scales
with cores on real hardware). Writes ``bench/out/load.json``.

The store is the bundled catalog harvested offline into a database of its own
(``--postgres-url``, default ``OPENDATA_TEST_POSTGRES_URL`` or postgresql+psycopg://postgres@
127.0.0.1:5432/test; a database ``opendata_load`` is made there and dropped at the end).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATASET = "gini-ratio-kabkota"  # edited and harvested half-way through
FILE = "gini_ratio_kabkota_2021_2024.csv"
PATHS = [
    "/api/v1/datasets/ipm-kabkota/observations",
    "/api/v1/datasets/ipm-kabkota/observations?region=6371,6372",
    "/api/v1/datasets/gini-ratio-kabkota/observations?within=6300&level=regency",
    "/api/v1/datasets/pengaduan-sp4n-lapor/observations?dim.status=aduan_diterima",
    "/api/v1/datasets/tpt-provinsi/observations?latest=1",
    "/api/v1/datasets/ipm-kabkota/observations.csv",
    "/api/v1/datasets/persentase-penduduk-miskin-kabkota/observations.csv?region=6300",
    "/api/v1/datasets/pdrb-per-kapita-provinsi",
    "/api/v1/datasets",
    "/api/v1/search?q=kemiskinan",
    "/api/v1/search?q=pengangguran&level=province",
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of ``pid`` and its children still running (gunicorn's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _start_node(env: dict, port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null", "wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.DEVNULL)
    for _ in range(400):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("a node did not start")


def _client(roots, stop: threading.Event, results: list, errors: list) -> None:
    session = requests.Session()
    for root, path in zip(itertools.cycle(roots), itertools.cycle(PATHS)):
        if stop.is_set():
            return
        started = time.perf_counter()
        try:
            response = session.get(root + path, timeout=30)  # reads the whole body
            ok = response.status_code in (200, 304)
        except requests.RequestException as error:
            ok, response = False, error
        results.append(time.perf_counter() - started)
        if not ok:
            errors.append(f"{path}: {getattr(response, 'status_code', response)}")


def run(nodes: int, env: dict, catalog: Path, seconds: float, clients: int) -> dict:
    ports = [_free_port() for _ in range(nodes)]
    processes = [_start_node(env, port) for port in ports]
    roots = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for root in roots:  # warm: imports and first connections, not measured
            for path in PATHS:
                requests.get(root + path, timeout=60)
        cpu_before = sum(_cpu_seconds(p.pid) for p in processes)
        stop, results, errors = threading.Event(), [], []
        threads = [
            threading.Thread(target=_client, args=(roots, stop, results, errors))
            for _ in range(clients)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        time.sleep(seconds / 2)
        table = catalog / "files" / FILE
        table.write_text(table.read_text(encoding="utf-8").replace("0,258", "0,259", 1))
        harvest = subprocess.run(
            [sys.executable, "-m", "opendata.cli", "harvest", DATASET],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        time.sleep(max(0.0, seconds - (time.perf_counter() - started)))
        stop.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        cpu = sum(_cpu_seconds(p.pid) for p in processes) - cpu_before
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    latencies = sorted(results)
    return {
        "nodes": nodes,
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(latencies),
        "errors": len(errors),
        "error_examples": errors[:5],
        "harvest_exit_code": harvest.returncode,
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
        "node_cpu_ms_per_request": round(cpu / max(len(latencies), 1) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="bounded load test: 1 and 2 nodes")
    default = os.environ.get(
        "OPENDATA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--postgres-url", default=default)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    server = create_engine(args.postgres_url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS opendata_load WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE opendata_load"))
    url = make_url(args.postgres_url).set(database="opendata_load")
    store = url.render_as_string(hide_password=False)
    reports = []
    with tempfile.TemporaryDirectory(prefix="opendata-load-") as tmp:
        catalog = Path(tmp) / "catalog"
        shutil.copytree(ROOT / "datasets", catalog)
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "OPENDATA_DATABASE_URL": store,
            "OPENDATA_CATALOG_DIR": str(catalog),
            "OPENDATA_REDIS_URL": args.redis_url,
            "OPENDATA_RATE_LIMIT": "",
            "WEB_CONCURRENCY": "2",
        }
        for command in (["db", "upgrade"], ["harvest", "--all", "--offline"]):
            subprocess.run(
                [sys.executable, "-m", "opendata.cli", *command],
                env=env,
                cwd=ROOT,
                check=True,
                capture_output=True,
            )
        for nodes in (1, 2):
            redis.Redis.from_url(args.redis_url).flushdb()
            reports.append(run(nodes, env, catalog, args.seconds, args.clients))
            print(json.dumps(reports[-1]), flush=True)
    with server.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS opendata_load WITH (FORCE)"))
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    (out / "load.json").write_text(json.dumps(reports, indent=2) + "\n")


if __name__ == "__main__":
    main()
