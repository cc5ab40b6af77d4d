"""Deep-page benchmark (a measurement, not a test): ``python bench/api/pages.py``.

Paging uses a keyset cursor, and ``docs/api.md`` promises that a page is as fast as the first
however deep it is. This measures it: the time of ``GET .../observations?limit=1000`` for the
first page, a middle page and the last full page of a dataset of ~180,000 observations, on
SQLite and on PostgreSQL, from our app under gunicorn with the response cache off
(``OPENDATA_CACHE_MB=0``: every request runs its query). The first page is the reference,
measured in the same run against the same server; the target is a middle and a last page within
1.5x of the first.

Two datasets of about 180,000 observations, written by the real writer (``generate.py``'s
shapes and values):

- ``bench-pages-regencies``: 553 regions (Indonesia, the provinces and the regencies) x sex (3)
  x urban/rural (3) x 36 months: many regions, few series in each;
- ``bench-pages-one-region``: Kalimantan Selatan alone x 500 commodities x 360 months: one
  region, many series, so a deep page is deep inside one region.

``--before REF`` also serves the app of another commit (``git archive REF``, e.g. the commit
before a change) against the same stores, interleaved with ours, so before and after are
measured in the same run. Each page is asked ``--rounds`` times (servers and pages interleaved);
medians. One worker, one thread per server: the requests are sequential, and on the shared
2-core machine more workers only add noise.

The SQLite store is cached in ``bench/out/``; the PostgreSQL store is a database of its own made
on the server ``--postgres-url`` names (default ``OPENDATA_TEST_POSTGRES_URL``), dropped at the
end (``--no-postgres`` skips PostgreSQL). Only 127.0.0.1 is contacted. Writes
``bench/out/pages.json``; ``bench/README.md`` explains the figures.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.api import generate  # noqa: E402
from bench.api.run import Server, _env, get, machine  # noqa: E402
from opendata.model import (  # noqa: E402
    Dimension,
    DimensionValue,
)
from opendata.regions import RegionIndex  # noqa: E402

OUT = ROOT / "bench" / "out"
LIMIT = 1000
TARGET = 1.5  #: a middle or last page within this factor of the first page's time
SEED = 6372
COMMODITIES = Dimension(
    "komoditas",
    "Komoditas",
    [DimensionValue(str(n), f"Komoditas {n:03d}") for n in range(1, 501)],
)
_INPUTS = ("bench/api/pages.py", "bench/api/generate.py", *generate._INPUTS[1:])


def shapes() -> list[generate.Shape]:
    """The two datasets, ~180,000 observations each."""
    reference = RegionIndex.reference()
    everywhere = [r.code for r in reference if r.level in ("country", "province", "regency")]
    return [
        generate.Shape(
            "bench-pages-regencies",
            "Indikator bulanan menurut kabupaten/kota, jenis kelamin dan daerah",
            everywhere,
            generate.periods("monthly", 2022, 2024),
            "monthly",
            [generate.SEX, generate.AREA],
        ),
        generate.Shape(
            "bench-pages-one-region",
            "Harga bulanan 500 komoditas di Kalimantan Selatan",
            ["6300"],
            generate.periods("monthly", 1995, 2024),
            "monthly",
            [COMMODITIES],
        ),
    ]


def fill(url: str) -> int:
    """Migrate the store at ``url`` and write the datasets through the real writer."""
    return generate.write_shapes(url, shapes(), random.Random(SEED), "bench-pages")


def sqlite_store() -> str:
    """The cached SQLite store (made first if missing); its URL."""
    h = hashlib.sha256()
    for name in _INPUTS:
        h.update((ROOT / name).read_bytes())
    for path in sorted((ROOT / "opendata/store/migrations/versions").glob("*.py")):
        h.update(path.read_bytes())
    path = OUT / f"pages-store-{h.hexdigest()[:12]}.sqlite3"
    if not path.exists():
        for old in OUT.glob("pages-store-*.sqlite3*"):
            old.unlink()
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        print(f"making the SQLite store {path.name} ...", flush=True)
        started = time.perf_counter()
        total = fill(f"sqlite:///{tmp}")
        import sqlite3

        with sqlite3.connect(tmp) as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        for suffix in ("-wal", "-shm"):
            Path(f"{tmp}{suffix}").unlink(missing_ok=True)
        os.replace(tmp, path)
        print(f"  {total:,} observations in {time.perf_counter() - started:.0f} s", flush=True)
    return f"sqlite:///{path}"


class PostgresStore:
    """A database of its own on a PostgreSQL server, dropped on exit."""

    def __init__(self, server_url: str):
        from sqlalchemy.engine import make_url

        self.server_url = server_url
        self.name = f"opendata_bench_pages_{uuid.uuid4().hex[:8]}"
        self.url = make_url(server_url).set(database=self.name).render_as_string(False)

    def _admin(self, sql: str) -> None:
        from sqlalchemy import text

        from opendata.store import make_engine

        engine = make_engine(self.server_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text(sql))
        finally:
            engine.dispose()

    def __enter__(self) -> PostgresStore:
        self._admin(f'CREATE DATABASE "{self.name}"')
        print(f"making the PostgreSQL store {self.name} ...", flush=True)
        started = time.perf_counter()
        total = fill(self.url)
        self._analyze()  # fresh statistics, as autovacuum would make them soon
        print(f"  {total:,} observations in {time.perf_counter() - started:.0f} s", flush=True)
        return self

    def _analyze(self) -> None:
        from sqlalchemy import text

        from opendata.store import make_engine

        engine = make_engine(self.url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                conn.execute(text("ANALYZE"))
        finally:
            engine.dispose()

    def __exit__(self, *exc) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def export_commit(ref: str, into: Path) -> Path:
    """Write the files of commit ``ref`` into ``into`` (``git archive``); return the folder."""
    archive = into / "before.tar"
    with open(archive, "wb") as out:
        subprocess.run(["git", "-C", str(ROOT), "archive", ref], stdout=out, check=True)
    folder = into / "before"
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    return folder


def page_urls(base: str, dataset_id: str) -> dict[str, str]:
    """The paths of the first, the middle and the last page, found by following ``next``."""
    path = f"/api/v1/datasets/{dataset_id}/observations?limit={LIMIT}"
    pages = [path]
    while True:
        status, body = get(base + pages[-1])
        if status != 200:
            raise SystemExit(f"{base}{pages[-1]} answered {status}: {body[:300]!r}")
        following = json.loads(body)["next"]
        if not following:
            break
        parts = urlsplit(following)
        pages.append(f"{parts.path}?{parts.query}")
    # the last page may hold a few rows only: "last" is the last full one
    last = pages[-2] if len(pages) > 1 else pages[-1]
    return {"first": pages[0], "middle": pages[len(pages) // 2], "last": last, "n": len(pages)}


def timed_get(url: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    status, body = get(url)
    elapsed = time.perf_counter() - started
    if status != 200:
        raise SystemExit(f"{url} answered {status}: {body[:300]!r}")
    return elapsed, body


def measure(servers: dict[str, Server], urls: dict[str, dict], rounds: int) -> dict:
    """Median ms of each (server, dataset, page); every server must give the same bodies."""
    times: dict[tuple[str, str, str], list[float]] = {}
    bodies: dict[tuple[str, str], bytes] = {}
    for round_ in range(rounds):
        names = list(servers)
        names = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in names:
            store = name.split("/")[1]
            for dataset, pages in urls[store].items():
                for page in ("first", "middle", "last"):
                    base = servers[name].base
                    elapsed, body = timed_get(base + pages[page])
                    # the figures must agree; links and other members may differ between versions
                    body = json.dumps(json.loads(body)["data"]).encode()
                    key = (store, dataset, page)
                    if bodies.setdefault(key, body) != body:
                        raise SystemExit(f"{name} answers {dataset} {page} differently")
                    times.setdefault((name, dataset, page), []).append(elapsed * 1000)
    return {
        f"{name} {dataset} {page}": round(statistics.median(values), 2)
        for (name, dataset, page), values in times.items()
    }


def report(result: dict) -> None:
    ms = result["ms"]
    print(f"\nmedians of {result['rounds']} rounds, ms per request ({LIMIT} observations a page)")
    print(f"{'server':<18} {'dataset':<24} {'first':>7} {'middle':>7} {'last':>7}  last/first")
    for name in result["servers"]:
        for dataset in result["datasets"]:
            first, middle, last = (ms[f"{name} {dataset} {p}"] for p in ("first", "middle", "last"))
            worst = max(middle, last) / first
            verdict = "met" if worst <= TARGET else "NOT met"
            print(
                f"{name:<18} {dataset:<24} {first:>7.1f} {middle:>7.1f} {last:>7.1f}  "
                f"{last / first:.2f}x (target <= {TARGET}x: {verdict})"
            )


def make_servers(apps: dict[str, Path], stores: dict[str, str]) -> dict[str, Server]:
    """One gunicorn server (one worker, one thread, no response cache) per app and store."""
    servers = {}
    for app, folder in apps.items():
        for store, url in stores.items():
            env = _env(
                OPENDATA_DATABASE_URL=url,
                OPENDATA_CACHE_MB="0",
                WEB_CONCURRENCY="1",
                GUNICORN_THREADS="1",
                PYTHONPATH=str(folder),
            )
            name = f"{app}/{store}"
            servers[name] = Server(
                f"pages-{app}-{store}", "gunicorn.conf.py", "wsgi:app", env, OUT, folder
            )
    return servers


def main() -> None:
    parser = argparse.ArgumentParser(description="time of the first vs deep pages")
    parser.add_argument("--rounds", type=int, default=15, help="requests of each page (median)")
    parser.add_argument("--before", metavar="REF", help="also serve the app of this commit")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("OPENDATA_TEST_POSTGRES_URL"),
        help="a PostgreSQL server to make a database on (default OPENDATA_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="measure SQLite only")
    args = parser.parse_args()
    if not 0 < args.rounds <= 100:
        parser.error("keep 0 < --rounds <= 100")
    if not args.no_postgres and not args.postgres_url:
        parser.error("name a PostgreSQL server (--postgres-url) or pass --no-postgres")
    OUT.mkdir(exist_ok=True)
    stores = {"sqlite": sqlite_store()}
    with tempfile.TemporaryDirectory() as tmp, _maybe_postgres(args) as postgres:
        if postgres is not None:
            stores["postgresql"] = postgres.url
        apps = {"ours": ROOT}
        if args.before:
            apps["before"] = export_commit(args.before, Path(tmp))
        servers = make_servers(apps, stores)
        try:
            for server in servers.values():
                server.start()
            for server in servers.values():
                server.wait_ready("/healthz")
            urls = {
                store: {
                    shape.id: page_urls(servers[f"ours/{store}"].base, shape.id)
                    for shape in shapes()
                }
                for store in stores
            }
            for name in servers:  # warm-up: every page once
                store = name.split("/")[1]
                for pages in urls[store].values():
                    for page in ("first", "middle", "last"):
                        timed_get(servers[name].base + pages[page])
            result = {
                "machine": machine(),
                "rounds": args.rounds,
                "before": args.before,
                "servers": list(servers),
                "datasets": [shape.id for shape in shapes()],
                "pages": {s: {d: u["n"] for d, u in by.items()} for s, by in urls.items()},
                "ms": measure(servers, urls, args.rounds),
            }
        finally:
            for server in servers.values():
                server.stop()
    (OUT / "pages.json").write_text(json.dumps(result, indent=2) + "\n")
    report(result)


class _NoStore:
    def __enter__(self):
        return None

    def __exit__(self, *exc) -> None:
        pass


def _maybe_postgres(args):
    return _NoStore() if args.no_postgres else PostgresStore(args.postgres_url)


if __name__ == "__main__":
    main()
