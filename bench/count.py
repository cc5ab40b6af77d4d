"""Counting benchmark (a measurement, not a test): ``python bench/count.py``.

``count=true`` and ``X-Total-Count`` run ``queries.count_observations``: one ``COUNT(*)`` over
the statement a page or a download reads. Is it cheap enough to send always? This measures, on
the 298,620-observation dataset of the API bench (``bench-ketenagakerjaan-bulanan``: 553
regions x sex x urban/rural x 60 months, written by the real writer) in a SQLite store and a
PostgreSQL database of its own, for a few queries (the whole dataset, ``within=6300``,
``latest=1``), the median time of

- the count (``count_observations``),
- the reference of a JSON page: the first page of 1,000 rows (``page_of_observations``),
- the reference of a download: reading every row of the query (``iter_observations``, what the
  CSV, XLSX and JSON-stat downloads read before writing anything),

all in the same process and run, so the ratios count, not the absolute times. Only 127.0.0.1
is contacted; the PostgreSQL database (on ``--postgres-url``, default
``OPENDATA_TEST_POSTGRES_URL``) is dropped at the end. Writes ``bench/out/count.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.api import generate  # noqa: E402
from bench.api.pages import PostgresStore  # noqa: E402
from opendata.filters import regions_under  # noqa: E402
from opendata.store import make_engine, queries  # noqa: E402

OUT = ROOT / "bench" / "out"
DATASET = generate.LARGEST_DATASET


def shape() -> generate.Shape:
    """The largest dataset of the API bench, as ``generate`` makes it."""
    [found] = [s for s in generate.shapes(random.Random(generate.SEED)) if s.id == DATASET]
    return found


def fill(url: str) -> int:
    return generate.write_shapes(url, [shape()], random.Random(generate.SEED), "bench-count")


class CountStore(PostgresStore):
    """A PostgreSQL database of its own holding the dataset, dropped on exit."""

    def __enter__(self) -> CountStore:
        self._admin(f'CREATE DATABASE "{self.name}"')
        print(f"PostgreSQL: {fill(self.url):,} observations", flush=True)
        self._analyze()  # fresh statistics, as autovacuum would make them soon
        return self


def the_queries(conn) -> dict[str, queries.ObservationQuery]:
    index = queries.load_regions(conn)
    within = queries.ObservationQuery(DATASET, within=("6300",))
    within.tree_regions = tuple(regions_under(index, ["6300"], None))
    return {
        "all": queries.ObservationQuery(DATASET),
        "within=6300": within,
        "latest=1": queries.ObservationQuery(DATASET, latest=1),
        "from=2024": queries.ObservationQuery(DATASET, start=date(2024, 1, 1)),
    }


def timed(func, rounds: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def measure(url: str, rounds: int) -> dict:
    engine = make_engine(url)
    figures = {}
    try:
        with engine.connect() as conn:
            for name, query in the_queries(conn).items():
                count_s, count = timed(lambda q=query: queries.count_observations(conn, q), rounds)
                page_s, _ = timed(
                    lambda q=query: queries.page_of_observations(conn, replace(q, limit=1000)),
                    rounds,
                )
                rows_s, rows = timed(
                    lambda q=query: sum(1 for _ in queries.iter_observations(conn, q)),
                    max(3, rounds // 3),
                )
                assert rows == count, (name, rows, count)
                figures[name] = {
                    "rows": count,
                    "count_ms": round(count_s * 1000, 1),
                    "first_page_ms": round(page_s * 1000, 1),
                    "all_rows_ms": round(rows_s * 1000, 1),
                    "count_vs_page": round(count_s / page_s, 2),
                    "count_vs_all_rows": round(count_s / rows_s, 3),
                }
                print(f"  {name:12} {figures[name]}", flush=True)
    finally:
        engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--postgres-url", default=os.environ.get("OPENDATA_TEST_POSTGRES_URL"))
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/count.sqlite3"
        print(f"SQLite: {fill(url):,} observations", flush=True)
        result["sqlite"] = measure(url, args.rounds)
    if not args.no_postgres:
        with CountStore(args.postgres_url) as store:
            result["postgresql"] = measure(store.url, args.rounds)
    OUT.mkdir(exist_ok=True)
    (OUT / "count.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
