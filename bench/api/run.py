"""API benchmark (a measurement, not a test): ``python bench/api/run.py``.

Whole-process figures on a synthetic store of ~1M observations (``generate.py``), against
references measured in the same run, on the same store, on the same machine:

(a) **JSON**: requests/s of one dataset x all regions x all periods (798 observations, one page)
    from our app under gunicorn (``gunicorn --config gunicorn.conf.py wsgi:app``), with the
    response cache off (``OPENDATA_CACHE_MB=0``, "uncached") and at its default ("cached"),
    against the **naive app** (``naive_app.py``: plain Flask + stdlib ``sqlite3`` + ``json``, the
    same SQL and fields) under gunicorn with the same worker settings. Load from ``wrk`` (a few
    keep-alive connections, a fixed duration), or a bounded Python load generator if ``wrk`` is
    missing; medians of interleaved rounds. Targets: uncached >= 1.2x, cached >= 4x the naive
    app's requests/s.
(b) **CSV**: rows/s of the full CSV export of the largest dataset (298,620 observations)
    streamed from our gunicorn server, against a Python process writing the same join with the
    stdlib ``csv`` module (``reference.py``, interpreter start included); and the growth of the
    server's memory (the summed ``VmRSS`` of the gunicorn workers) over the exports. Targets:
    >= 60 % of the reference's rows/s, < 50 MB growth.

Each rate comes with the CPU time behind it (the server's workers, from ``/proc``; the
reference process), which is steadier than the rates when other work shares the machine.
Before timing, it checks that the apps return the same rows (count and values) and the CSV
export the same bytes as the reference, and that the references' SQL is still the app's.
Only 127.0.0.1 is contacted; every load loop is bounded in time and count. Writes
``bench/out/api.json``; ``bench/README.md`` explains the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import os
import platform
import re
import resource
import runpy
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.api import generate, reference  # noqa: E402

HOST = "127.0.0.1"
TARGETS = {"uncached": 1.2, "cached": 4.0, "csv": 0.6, "memory_mb": 50.0}
#: the Python load generator's hard cap on requests per measurement, whatever the duration
MAX_PYTHON_REQUESTS = 200_000
BIN = Path(sys.executable).parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# -- servers ------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def gunicorn_settings(app_dir: Path) -> dict:
    """The worker settings of the project's gunicorn.conf.py in this environment."""
    conf = runpy.run_path(str(app_dir / "gunicorn.conf.py"))
    return {k: conf[k] for k in ("worker_class", "workers", "threads", "timeout", "keepalive")}


def max_cached_bytes(app_dir: Path) -> int:
    """The app's largest cached response body (read in the app's own checkout)."""
    code = (
        "from opendata.config import load_settings; "
        "print(int(load_settings().CACHE_MB * 1024 * 1024) // 8)"
    )
    env = {**os.environ, "PYTHONPATH": str(app_dir)}
    return int(subprocess.check_output([sys.executable, "-c", code], env=env, cwd=app_dir))


class Server:
    """A gunicorn master started by us (on 127.0.0.1), its workers, their memory."""

    def __init__(self, name: str, config: str, app: str, env: dict, log_dir: Path, cwd: Path):
        self.name, self.port, self.cwd = name, free_port(), cwd
        self.base = f"http://{HOST}:{self.port}"
        self.cmd = [str(BIN / "gunicorn"), "--config", config]
        self.cmd += ["--bind", f"{HOST}:{self.port}", app]
        self.env, self.log = env, log_dir / f"api-{name}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(
                self.cmd, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )

    def wait_ready(self, path: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited: see {self.log}")
            try:
                if get(self.base + path)[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.name} not ready after {timeout:.0f} s: see {self.log}")

    def workers(self) -> list[int]:
        pid = self.proc.pid
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
        return [int(p) for p in text.split()]

    def rss_kib(self) -> int:
        """The summed resident memory of the workers (KiB)."""
        total = 0
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except FileNotFoundError:
                continue
            total += int(re.search(r"^VmRSS:\s+(\d+) kB", status, re.M).group(1))
        return total

    def cpu_seconds(self) -> float:
        """The CPU time the workers have used so far (user + system)."""
        total = 0
        for pid in self.workers():
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except FileNotFoundError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
        return total / CLOCK_TICKS

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)  # the master stops its workers
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


# -- HTTP ---------------------------------------------------------------------------------------


def get(url: str, timeout: float = 60.0) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wrk_load(url: str, duration: float, connections: int, threads: int) -> dict:
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s", url]
    out = subprocess.run(
        cmd, capture_output=True, text=True, check=True, timeout=duration + 60
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = int(bad.group(1)) if bad else 0
    failed += sum(map(int, errors.groups())) if errors else 0
    return {"requests_per_s": rps, "requests": requests, "failed": failed}


def python_load(url: str, duration: float, connections: int, _threads: int) -> dict:
    """A bounded keep-alive load generator: ``connections`` threads, one connection each."""
    parts = urlsplit(url)
    deadline = time.monotonic() + duration
    counts = [0] * connections
    failed = [0] * connections

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while time.monotonic() < deadline and sum(counts) < MAX_PYTHON_REQUESTS:
            try:
                conn.request("GET", parts.path)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    failed[i] += 1
                counts[i] += 1
            except (OSError, http.client.HTTPException):
                failed[i] += 1
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        conn.close()

    started = time.monotonic()
    pool = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=duration + 30)
    elapsed = time.monotonic() - started
    return {"requests_per_s": sum(counts) / elapsed, "requests": sum(counts), "failed": sum(failed)}


# -- checks -------------------------------------------------------------------------------------


def _normal_sql(sql: str) -> str:
    return " ".join(sql.split())


def check_sql(store: Path) -> None:
    """Fail if the references' SQL is no longer what the app runs for these requests."""
    from sqlalchemy import event

    from opendata.store import make_engine, queries

    engine = make_engine(f"sqlite:///{store}")
    seen: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: seen.append(_normal_sql(a[2])))
    with engine.connect() as conn:
        query = queries.ObservationQuery(generate.TARGET_DATASET)
        list(queries.iter_observations(conn, query))
        queries.series_dimensions(conn, generate.TARGET_DATASET)
    engine.dispose()
    for name in ("OBSERVATIONS_SQL", "SERIES_DIMENSIONS_SQL"):
        if _normal_sql(getattr(reference, name)) not in seen:
            raise SystemExit(f"the app no longer runs reference.{name}: update it ({seen})")


def _rows(observations: list[dict]) -> list[tuple]:
    return [
        (
            o["region"]["code"],
            o["region"]["name"],
            o["period"],
            json.dumps(o["dimensions"]),
            o["value"],
            o["unit"],
            o["flag"],
            o["note"],
        )
        for o in observations
    ]


def check_same_rows(ours: dict[str, bytes], naive: bytes) -> int:
    """Fail unless every server gives the same observations; return how many."""
    expected = _rows(json.loads(naive, parse_float=Decimal))
    for name, body in ours.items():
        page = json.loads(body, parse_float=Decimal)
        if page["next"] is not None:
            raise SystemExit(f"{name}: the request takes more than one page")
        if _rows(page["data"]) != expected:
            raise SystemExit(f"{name}: not the naive app's {len(expected)} rows")
    return len(expected)


# -- (b) CSV ------------------------------------------------------------------------------------


def export(url: str, server: Server) -> dict:
    """Stream ``url`` to nothing; time it and sample the workers' memory meanwhile."""
    peak, done = [server.rss_kib()], threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            peak.append(server.rss_kib())

    sampler = threading.Thread(target=sample)
    sampler.start()
    digest, size, lines = hashlib.sha256(), 0, 0
    parts = urlsplit(url)
    cpu = server.cpu_seconds()
    started = time.perf_counter()
    try:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        conn.request("GET", parts.path)
        response = conn.getresponse()
        if response.status != 200:
            raise SystemExit(f"{url}: HTTP {response.status}")
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\r\n")
        conn.close()
        seconds = time.perf_counter() - started
        cpu = server.cpu_seconds() - cpu
    finally:
        done.set()
        sampler.join()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "bytes": size,
        "rows": lines - 1,
        "sha256": digest.hexdigest(),
        "peak_kib": max(peak),
    }


def reference_csv(store: Path, out: str) -> tuple[float, float]:
    """Run the reference process: its wall time and CPU time (s)."""
    script = Path(reference.__file__)
    cmd = [sys.executable, str(script), str(store), generate.LARGEST_DATASET, out]
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(cmd, check=True, timeout=600)
    seconds = time.perf_counter() - started
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return seconds, used.ru_utime + used.ru_stime - cpu.ru_utime - cpu.ru_stime


def run_csv(store: Path, server: Server, rounds: int) -> dict:
    url = f"{server.base}/api/v1/datasets/{generate.LARGEST_DATASET}/observations.csv"
    with tempfile.TemporaryDirectory(prefix="opendata-bench-api-") as tmp:
        ref_file = Path(tmp) / "reference.csv"
        reference_csv(store, str(ref_file))
        ref_sha = hashlib.sha256(ref_file.read_bytes()).hexdigest()
    before = server.rss_kib()
    ours, refs, after = [], [], []
    for _ in range(rounds):
        result = export(url, server)
        if result["sha256"] != ref_sha:
            raise SystemExit("the CSV export differs from the reference's file")
        after.append(server.rss_kib())
        ours.append(result)
        refs.append(reference_csv(store, os.devnull))
    rows = ours[0]["rows"]
    ours_s = statistics.median(r["seconds"] for r in ours)
    ref_s = statistics.median(wall for wall, _ in refs)
    ours_cpu = statistics.median(r["cpu_seconds"] for r in ours)
    ref_cpu = statistics.median(cpu for _, cpu in refs)
    return {
        "dataset": generate.LARGEST_DATASET,
        "rows": rows,
        "bytes": ours[0]["bytes"],
        "ours_seconds": [round(r["seconds"], 3) for r in ours],
        "reference_seconds": [round(wall, 3) for wall, _ in refs],
        "ours_cpu_seconds": [round(r["cpu_seconds"], 3) for r in ours],
        "reference_cpu_seconds": [round(cpu, 3) for _, cpu in refs],
        "ours_rows_per_s": round(rows / ours_s),
        "reference_rows_per_s": round(rows / ref_s),
        "ratio": round(ref_s / ours_s, 3),
        "cpu_ratio": round(ref_cpu / ours_cpu, 3),
        "rss_before_mib": round(before / 1024, 1),
        "rss_after_mib": [round(a / 1024, 1) for a in after],
        "rss_peak_mib": round(max(r["peak_kib"] for r in ours) / 1024, 1),
        "growth_mib": round((max(after) - before) / 1024, 1),
        "peak_growth_mib": round((max(r["peak_kib"] for r in ours) - before) / 1024, 1),
    }


# -- main ---------------------------------------------------------------------------------------


def _env(**extra: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENDATA_")}
    env.update(extra)
    return env


def machine() -> dict:
    cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": len(os.sched_getaffinity(0)),
        "cpu": cpu.group(1) if cpu else platform.processor(),
        "python": platform.python_version(),
    }


def run_json(servers: dict[str, Server], args, load) -> dict:
    path = f"/api/v1/datasets/{generate.TARGET_DATASET}/observations"
    urls = {
        name: s.base + (path.removeprefix("/api/v1") if name == "naive" else path)
        for name, s in servers.items()
    }
    bodies = {}
    for name, url in urls.items():
        status, bodies[name] = get(url)
        if status != 200:
            raise SystemExit(f"{name}: HTTP {status} for {url}")
    rows = check_same_rows({k: v for k, v in bodies.items() if k != "naive"}, bodies["naive"])
    for url in urls.values():  # every worker loads what it keeps between requests
        load(url, args.warmup, args.connections, args.threads)
    figures: dict[str, list[float]] = {name: [] for name in urls}
    cpu_ms: dict[str, list[float]] = {name: [] for name in urls}
    order = list(urls)
    for i in range(args.rounds):
        for name in order[i % len(order) :] + order[: i % len(order)]:
            cpu = servers[name].cpu_seconds()
            result = load(urls[name], args.duration, args.connections, args.threads)
            cpu = servers[name].cpu_seconds() - cpu
            cpu_ms[name].append(round(cpu * 1000 / max(result["requests"], 1), 3))
            if result["failed"]:
                raise SystemExit(f"{name}: {result['failed']} failed requests: {result}")
            figures[name].append(round(result["requests_per_s"], 1))
            print(f"  round {i + 1} {name:<9} {result['requests_per_s']:8.1f} req/s", flush=True)
    medians = {name: statistics.median(values) for name, values in figures.items()}
    cpu = {name: statistics.median(values) for name, values in cpu_ms.items()}
    return {
        "path": path,
        "rows": rows,
        "body_bytes": {name: len(body) for name, body in bodies.items()},
        "max_cached_bytes": max_cached_bytes(args.app_dir),
        "requests_per_s": figures,
        "median_requests_per_s": medians,
        "uncached_ratio": round(medians["uncached"] / medians["naive"], 3),
        "cached_ratio": round(medians["cached"] / medians["naive"], 3),
        "worker_cpu_ms_per_request": cpu_ms,
        "median_worker_cpu_ms_per_request": cpu,
        "uncached_cpu_ratio": round(cpu["naive"] / cpu["uncached"], 3),
        "cached_cpu_ratio": round(cpu["naive"] / cpu["cached"], 3),
    }


def _verdict(value: float, target: float, at_least: bool = True) -> str:
    return "ok" if (value >= target if at_least else value < target) else "MISSED"


def report(result: dict) -> None:
    a, b = result["json"], result["csv"]
    m, cpu = a["median_requests_per_s"], a["median_worker_cpu_ms_per_request"]
    print(
        f"\n{result['machine']['date']}, {result['machine']['cpus']} CPUs, load: {result['load']}"
    )
    print(f"gunicorn: {result['gunicorn']}")
    print(f"\n(a) JSON, {a['rows']} rows ({a['body_bytes']['uncached']:,} bytes), medians")
    columns = ("req/s", 9), ("vs naive", 10), ("target", 8), ("", 8), ("CPU ms/req", 12)
    print("  " + " " * 10 + "".join(f"{c:>{w}}" for c, w in (*columns, ("vs naive", 10))))
    print(f"  {'naive':<10}{m['naive']:>9.1f}{'':<26}{cpu['naive']:>12.2f}")
    for name in ("uncached", "cached"):
        ratio, target = a[f"{name}_ratio"], TARGETS[name]
        verdict = _verdict(ratio, target)
        print(
            f"  {name:<10}{m[name]:>9.1f}{ratio:>9.2f}x{target:>7.1f}x  {verdict:<6}"
            f"{cpu[name]:>12.2f}{a[f'{name}_cpu_ratio']:>9.2f}x"
        )
    if a["body_bytes"]["cached"] > a["max_cached_bytes"]:
        print(
            f"  note: the body is over MAX_CACHED_BYTES ({a['max_cached_bytes']:,}): "
            "the response cache does not keep it"
        )
    print(f"\n(b) CSV export of {b['dataset']}: {b['rows']:,} rows, {b['bytes']:,} bytes, medians")
    print(f"  {'':<10}{'rows/s':>10}{'CPU s':>8}")
    print(
        f"  {'ours':<10}{b['ours_rows_per_s']:>10,}{statistics.median(b['ours_cpu_seconds']):>8.2f}"
    )
    print(
        f"  {'reference':<10}{b['reference_rows_per_s']:>10,}"
        f"{statistics.median(b['reference_cpu_seconds']):>8.2f}  (stdlib csv, whole process)"
    )
    print(
        f"  ratio     {b['ratio']:>10.1%}{b['cpu_ratio']:>8.1%}  target >= 60%  "
        f"{_verdict(b['ratio'], TARGETS['csv'])}"
    )
    growth = b["growth_mib"]
    verdict = _verdict(growth * 1.048576, TARGETS["memory_mb"], at_least=False)
    print(
        f"  workers' RSS {b['rss_before_mib']} MiB before, {b['rss_after_mib']} after, "
        f"peak {b['rss_peak_mib']}: growth {growth} MiB (peak {b['peak_growth_mib']}), "
        f"target < 50 MB  {verdict}"
    )
    print(
        "\nThe CPU columns (the server's workers; the reference process) are steadier than "
        "req/s and rows/s when other work shares the machine."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="API benchmark: JSON req/s, CSV rows/s")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measurement")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up per app")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--csv-rounds", type=int, default=5, help="CSV exports (median)")
    parser.add_argument("--python-load", action="store_true", help="do not use wrk")
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=ROOT,
        help="serve our app from this checkout instead (to measure a change against the naive app)",
    )
    args = parser.parse_args()
    args.app_dir = args.app_dir.resolve()
    if not 0 < args.duration <= 60 or not 0 < args.rounds <= 10 or not 0 < args.connections <= 64:
        parser.error("keep --duration <= 60, --rounds <= 10 and --connections <= 64")

    if args.python_load or shutil.which("wrk") is None:
        if not args.python_load:
            print(
                "wrk is not installed (Debian: apt-get install wrk): using the Python load "
                "generator, which takes CPU from the servers; its req/s are lower and the "
                "ratios less telling than wrk's",
                flush=True,
            )
        load, load_name = python_load, f"python, {args.connections} connections"
    else:
        load = wrk_load
        load_name = f"wrk -t{args.threads} -c{args.connections}, {args.duration:g} s each"

    store = generate.ensure_store()
    if args.app_dir == ROOT:
        check_sql(store)
    else:
        print(f"our app from {args.app_dir} (its SQL is not checked, its rows are)", flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    database_url = f"sqlite:///{store}"
    naive_env = _env(BENCH_NAIVE_DATABASE=str(store))
    ours_env = _env(OPENDATA_DATABASE_URL=database_url)
    if args.app_dir != ROOT:
        ours_env["PYTHONPATH"] = str(args.app_dir)
    ours = ("gunicorn.conf.py", "wsgi:app")
    servers = {
        "naive": Server(
            "naive",
            "bench/api/naive_gunicorn.conf.py",
            "bench.api.naive_app:app",
            naive_env,
            out,
            ROOT,
        ),
        "uncached": Server(
            "uncached", *ours, {**ours_env, "OPENDATA_CACHE_MB": "0"}, out, args.app_dir
        ),
        "cached": Server("cached", *ours, ours_env, out, args.app_dir),
    }
    try:
        for server in servers.values():
            server.start()
        for server in servers.values():
            server.wait_ready("/healthz")
        print(f"store {store.name}; servers up; {load_name}", flush=True)
        result = {
            "machine": machine(),
            "app_dir": str(args.app_dir),
            "gunicorn": gunicorn_settings(args.app_dir),
            "load": load_name,
        }
        result["json"] = run_json(servers, args, load)
        servers["naive"].stop()
        servers["uncached"].stop()
        result["csv"] = run_csv(store, servers["cached"], args.csv_rounds)
    finally:
        for server in servers.values():
            server.stop()
    result["targets"] = TARGETS
    (out / "api.json").write_text(json.dumps(result, indent=2) + "\n")
    report(result)


if __name__ == "__main__":
    main()
