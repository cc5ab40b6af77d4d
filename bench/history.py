"""The cost of history: ``as_of`` and ``updated_after`` against the current data, and revisions.

``python bench/history.py`` measures two things, on SQLite, and writes ``bench/out/history.json``:

1. **Queries at ~1M observations.** A copy of the API benchmark's store (``bench/api/
   generate.py``: 1,002,947 observations, one run per dataset) gets two more harvests of its
   JSON target (798 cells) and its largest dataset (298,620 cells) in which every value changed:
   ~600k revisions. The 37 first runs end at T0, the revisions at T1 and T2. Then the store
   query of one page (``queries.page_of_observations``, the API's) is timed, median of several,
   for the current data, ``as_of`` T0 (every row an earlier version, through the revision
   join), ``as_of`` T2 (the current versions through the history path) and ``updated_after``
   T0, T1 and T2 (nothing changed since: the poll that reads the whole dataset to find no row),
   on the target's one page and on the largest's first and a middle page (1,000 rows).
2. **Ingest.** A dataset of 99,540 cells (553 regions x 20 years x sex x urban/rural) written
   once, then re-harvested with every value changed: once, or ten times. Time of each revising
   harvest and store size (after a checkpoint), against the first harvest.

A measurement, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import select, update  # noqa: E402

from bench.api import generate  # noqa: E402
from opendata.model import DatasetSpec  # noqa: E402
from opendata.regions import RegionIndex  # noqa: E402
from opendata.store import history, make_engine, queries, runs, upgrade  # noqa: E402
from opendata.store import schema as t  # noqa: E402
from opendata.store.writer import sync_regions, write_dataset  # noqa: E402

T0 = datetime(2026, 1, 1, tzinfo=UTC)
T1, T2 = T0 + timedelta(days=30), T0 + timedelta(days=60)
REPEAT = 7
PAGE = 1000


def _spec(shape: generate.Shape) -> DatasetSpec:
    return DatasetSpec(
        id=shape.id,
        title={"id": shape.title},
        source="bps",
        query={"domain": "6300", "var": shape.id},
        path=Path(__file__),
        frequency=shape.frequency,
    )


def _harvest(engine, shape: generate.Shape, rng: random.Random, at: datetime | None) -> float:
    """Write ``shape`` with values drawn from ``rng`` as one run (ending at ``at``); seconds."""
    result = generate.parse_result(shape, rng)
    started = time.perf_counter()
    with engine.begin() as conn:
        run_id = runs.start_run(conn, "bench-history", shape.id, offline=True)
        known = set(conn.execute(select(t.region.c.code)).scalars())
        counts = write_dataset(conn, _spec(shape), "Badan Pusat Statistik", result, run_id, known)
        runs.finish_run(conn, run_id, "ok", counts)
        if at is not None:
            naive = at.replace(tzinfo=None)
            conn.execute(
                update(t.harvest_run).where(t.harvest_run.c.id == run_id).values(finished_at=naive)
            )
    return time.perf_counter() - started


def _timed(conn, query: queries.ObservationQuery) -> tuple[float, int]:
    times, rows = [], 0
    for _ in range(REPEAT):
        started = time.perf_counter()
        rows = len(queries.page_of_observations(conn, query))
        times.append(time.perf_counter() - started)
    return statistics.median(times), rows


def _middle(conn, dataset_id: str) -> tuple:
    """The keyset of the row half way through ``dataset_id``: where a middle page starts."""
    rows = list(queries.iter_observations(conn, queries.ObservationQuery(dataset_id)))
    return queries.keyset(rows[len(rows) // 2])


def bench_queries() -> dict:
    """Part 1: one page's query time, current data against as_of and updated_after."""
    source = generate.ensure_store()
    rng = random.Random(generate.SEED)
    shapes = {s.id: s for s in generate.shapes(rng)}
    revised = [shapes[generate.TARGET_DATASET], shapes[generate.LARGEST_DATASET]]
    results: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "store.sqlite3"
        shutil.copy(source, path)
        engine = make_engine(f"sqlite:///{path}")
        with engine.begin() as conn:
            conn.execute(update(t.harvest_run).values(finished_at=T0.replace(tzinfo=None)))
        for n, at in enumerate((T1, T2), 1):
            for shape in revised:
                seconds = _harvest(engine, shape, random.Random(n), at)
                print(f"revised {shape.id} ({shape.size:,} cells) in {seconds:.1f} s", flush=True)
        with engine.connect() as conn:
            marks = {name: history.run_at(conn, at).run_id for name, at in (("T0", T0), ("T1", T1))}
            marks["T2"] = history.latest_run(conn).run_id
            modes = {
                "current": {},
                "as_of T0": {"as_of_run": marks["T0"]},
                "as_of T2": {"as_of_run": marks["T2"]},
                "updated_after T0": {
                    "changed_after_run": marks["T0"],
                    "changed_until_run": marks["T2"],
                },
                "updated_after T1": {
                    "changed_after_run": marks["T1"],
                    "changed_until_run": marks["T2"],
                },
                # a poll that finds nothing reads the whole dataset: the worst case
                "updated_after T2": {
                    "changed_after_run": marks["T2"],
                    "changed_until_run": marks["T2"],
                },
            }
            pages = {
                "target, one page": (generate.TARGET_DATASET, None),
                "largest, first page": (generate.LARGEST_DATASET, None),
                "largest, middle page": (
                    generate.LARGEST_DATASET,
                    _middle(conn, generate.LARGEST_DATASET),
                ),
            }
            for page, (dataset_id, after) in pages.items():
                results[page] = {}
                for mode, fields in modes.items():
                    query = queries.ObservationQuery(
                        dataset_id, after=after, limit=PAGE + 1, **fields
                    )
                    seconds, rows = _timed(conn, query)
                    results[page][mode] = {"ms": round(seconds * 1000, 2), "rows": rows}
        engine.dispose()
    return results


def _size(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path.stat().st_size


def bench_ingest(revisions: int) -> dict:
    """Part 2: a 99,540-cell dataset harvested once, then ``revisions`` times all changed."""
    reference = RegionIndex.reference()
    regencies = [r.code for r in reference if r.level in ("country", "province", "regency")]
    shape = generate.Shape(
        "bench-history",
        "Revised dataset",
        regencies[:556],
        generate.periods("annual", 2001, 2020),
        "annual",
        [generate.SEX, generate.AREA],
    )
    cells = shape.size
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "store.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        with engine.begin() as conn:
            sync_regions(conn, reference)
        empty = _size(path)
        first = _harvest(engine, shape, random.Random(0), None)
        once = _size(path)
        times = [_harvest(engine, shape, random.Random(n), None) for n in range(1, revisions + 1)]
        size = _size(path)
        with engine.connect() as conn:
            kept = conn.execute(select(t.observation_revision.c.id).limit(1)).first() is not None
        engine.dispose()
    assert kept
    return {
        "cells": cells,
        "revisions": revisions,
        "first_harvest_s": round(first, 2),
        "revising_harvest_s": [round(s, 2) for s in times],
        "size_after_first_mb": round((once - empty) / 1e6, 1),
        "size_after_revisions_mb": round((size - empty) / 1e6, 1),
    }


def main() -> None:
    report = {
        "queries": bench_queries(),
        "ingest": [bench_ingest(1), bench_ingest(10)],
    }
    out = generate.OUT / "history.json"
    out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nOne page's store query, median of {REPEAT} (ms, rows):")
    for page, modes in report["queries"].items():
        cells = "  ".join(f"{m}: {v['ms']} ({v['rows']})" for m, v in modes.items())
        print(f"  {page}: {cells}")
    print("\nIngest of a dataset revised (every value changed) once vs ten times:")
    for run in report["ingest"]:
        print(
            f"  {run['revisions']:>2} revision(s) of {run['cells']:,} cells: first harvest "
            f"{run['first_harvest_s']} s, revising harvests median "
            f"{statistics.median(run['revising_harvest_s']):.2f} s; store "
            f"{run['size_after_first_mb']} MB after the first, "
            f"{run['size_after_revisions_mb']} MB after the revisions"
        )
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
