"""A synthetic store of ~1M observations for the API benchmark (``python bench/api/generate.py``).

Made through the real schema and the real writer: ``opendata db upgrade`` on a fresh SQLite
file, then one :func:`opendata.store.writer.write_dataset` per dataset (with ``runs.start_run`` /
``runs.finish_run`` around it, as the harvest runner does). The writer is fast enough for a million
rows (about 12 s on the 2-core machine), so bulk inserts that imitate it are not worth the risk
of a store the writer would never make; and the store is cached.

The shape is a made-up but realistic catalog (seeded, so every run makes the same store):

- ``bench-tpt-jenis-kelamin``: the **target** of the JSON benchmark. Kalimantan Selatan's
  14 regions (6300, 6301-6311, 6371, 6372) x sex (3 values, one a total) x 19 years
  = 798 observations, one page of the observations endpoint at its default page size.
- ``bench-ketenagakerjaan-bulanan``: the **largest**, for the CSV export: every province and
  regency (553 regions) x sex (3) x urban/rural (3) x 60 months = 298,620 observations.
- 35 more datasets of random shapes (Kalsel, the provinces or every regency; annual,
  half-yearly, quarterly or monthly; 0-2 dimensions; 1-3 indicators): 1,002,947 in all.

Values have two decimals, written as exact text (``Decimal("1234.50")``); about 1 % are
missing, some carry a flag (``p``, ``r``, ``na``) or a note.

The store is cached as ``bench/out/api-store-<digest>.sqlite3``; the digest covers this file,
the schema, the migrations, the writer and the region reference, so a change to any of them
makes a new one (older ones are removed).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
OUT = ROOT / "bench" / "out"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from opendata.model import (  # noqa: E402
    DatasetSpec,
    Dimension,
    DimensionValue,
    Indicator,
    ParseResult,
    Record,
)
from opendata.regions import RegionIndex  # noqa: E402

SEED = 6300
TARGET_DATASET = "bench-tpt-jenis-kelamin"
LARGEST_DATASET = "bench-ketenagakerjaan-bulanan"
TOTAL_OBSERVATIONS = 1_000_000
KALSEL = ["6300", *(f"63{n:02d}" for n in range(1, 12)), "6371", "6372"]

#: files whose change makes a new store
_INPUTS = (
    "bench/api/generate.py",
    "opendata/store/schema.py",
    "opendata/store/writer.py",
    "opendata/data/regions.csv",
    "opendata/data/region_aliases.csv",
)

SEX = Dimension(
    "jenis_kelamin",
    "Jenis Kelamin",
    [
        DimensionValue("1", "Laki-laki"),
        DimensionValue("2", "Perempuan"),
        DimensionValue("3", "Jumlah", is_total=True),
    ],
)
AREA = Dimension(
    "daerah",
    "Daerah",
    [
        DimensionValue("1", "Perkotaan"),
        DimensionValue("2", "Perdesaan"),
        DimensionValue("3", "Perkotaan + Perdesaan", is_total=True),
    ],
)
#: (slug, label, value labels) of the dimensions random datasets draw from
DIMENSION_POOL = (
    ("kelompok_umur", "Kelompok Umur", ["15-24", "25-34", "35-44", "45-54", "55-64", "65+"]),
    ("lapangan_usaha", "Lapangan Usaha", ["Pertanian", "Industri", "Perdagangan", "Jasa"]),
    ("pendidikan", "Pendidikan", ["SD ke bawah", "SMP", "SMA", "Diploma", "Universitas"]),
    ("status_pekerjaan", "Status Pekerjaan", ["Berusaha sendiri", "Buruh", "Pekerja keluarga"]),
    ("komoditas", "Komoditas", ["Padi", "Jagung", "Kedelai", "Karet", "Kelapa sawit"]),
)
UNITS = ("Persen", "Jiwa", "Rupiah", "Ton", "Indeks", "Ribu Rupiah", "Hektar")
SUBJECTS = ("Ketenagakerjaan", "Kependudukan", "Pertanian", "Harga", "Kemiskinan")


@dataclass
class Shape:
    """What one synthetic dataset holds."""

    id: str
    title: str
    regions: list[str]
    periods: list[str]
    frequency: str
    dimensions: list[Dimension]
    indicators: int = 1

    @property
    def size(self) -> int:
        cells = len(self.regions) * len(self.periods) * self.indicators
        for dim in self.dimensions:
            cells *= len(dim.values)
        return cells


def periods(frequency: str, first: int, last: int) -> list[str]:
    """The periods of ``frequency`` from year ``first`` to year ``last``, in order."""
    subs = {
        "annual": [""],
        "semiannual": ["-S1", "-S2"],
        "quarterly": [f"-Q{q}" for q in range(1, 5)],
        "monthly": [f"-{m:02d}" for m in range(1, 13)],
    }[frequency]
    return [f"{year}{sub}" for year in range(first, last + 1) for sub in subs]


def shapes(rng: random.Random) -> list[Shape]:
    """The catalog: the target, the largest, then random datasets up to ~1M observations."""
    reference = RegionIndex.reference()
    provinces = [r.code for r in reference if r.level in ("country", "province")]
    everywhere = [r.code for r in reference if r.level in ("country", "province", "regency")]
    result = [
        Shape(
            TARGET_DATASET,
            "Tingkat pengangguran terbuka menurut jenis kelamin",
            KALSEL,
            periods("annual", 2006, 2024),
            "annual",
            [SEX],
        ),
        Shape(
            LARGEST_DATASET,
            "Indikator ketenagakerjaan bulanan menurut jenis kelamin dan daerah",
            everywhere,
            periods("monthly", 2020, 2024),
            "monthly",
            [SEX, AREA],
        ),
    ]
    total = sum(s.size for s in result)
    n = 0
    while total < TOTAL_OBSERVATIONS - 5_000:
        n += 1
        frequency = rng.choice(("annual", "annual", "semiannual", "quarterly", "monthly"))
        first = {"annual": 2000, "semiannual": 2012, "quarterly": 2014, "monthly": 2019}[frequency]
        regions = rng.choice((KALSEL, KALSEL, provinces, everywhere))
        dims = []
        for slug, label, labels in rng.sample(DIMENSION_POOL, rng.choice((0, 1, 1, 2))):
            values = [DimensionValue(str(i + 1), text) for i, text in enumerate(labels)]
            values.append(DimensionValue(str(len(labels) + 1), "Jumlah", is_total=True))
            dims.append(Dimension(slug, label, values))
        shape = Shape(
            f"bench-synthetic-{n:03d}",
            f"Tabel sintetis {n}",
            regions,
            periods(frequency, rng.randint(first, first + 4), 2024),
            frequency,
            dims,
            rng.choice((1, 1, 2, 3)),
        )
        if shape.size > 120_000 or total + shape.size > TOTAL_OBSERVATIONS + 5_000:
            continue
        result.append(shape)
        total += shape.size
    return result


def _value(rng: random.Random) -> tuple[Decimal | None, str | None, str | None]:
    draw = rng.random()
    if draw < 0.01:
        return None, "na", None
    value = Decimal(f"{rng.randint(0, 99999)}.{rng.randint(0, 99):02d}")
    if draw < 0.03:
        return value, "p", "Angka sementara"
    if draw < 0.04:
        return value, "r", None
    return value, None, None


def parse_result(shape: Shape, rng: random.Random) -> ParseResult:
    """What a harvester's parse would hand the writer for ``shape``."""
    indicators = [
        Indicator(
            code=str(9000 + i),
            name=f"{shape.title} ({i + 1})" if shape.indicators > 1 else shape.title,
            unit="Persen" if shape.id == TARGET_DATASET else rng.choice(UNITS),
            decimals=2,
            subject=rng.choice(SUBJECTS),
            source_ref=f"https://kalsel.bps.go.id/indicator/6/{9000 + i}",
            source_last_update=datetime(2026, 11, 1),
        )
        for i in range(shape.indicators)
    ]
    combos: list[tuple[tuple[str, str], ...]] = [()]
    for dim in shape.dimensions:
        combos = [(*c, (dim.id, v.code)) for c in combos for v in dim.values]
    records = [
        Record(indicator.code, region, period, dims, *_value(rng))
        for indicator in indicators
        for region in shape.regions
        for dims in combos
        for period in shape.periods
    ]
    return ParseResult(indicators=indicators, dimensions=shape.dimensions, records=records)


def digest() -> str:
    """A hash of everything the store depends on."""
    h = hashlib.sha256()
    paths = [ROOT / p for p in _INPUTS]
    paths += sorted((ROOT / "opendata/store/migrations/versions").glob("*.py"))
    for path in paths:
        h.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:12]


def store_path() -> Path:
    """Where the store of the current generator is cached."""
    return OUT / f"api-store-{digest()}.sqlite3"


def write_shapes(url: str, shapes: Iterable, rng: random.Random, batch: str) -> int:
    """Migrate the store at ``url`` and write each shape's dataset through the real writer (with
    ``start_run``/``finish_run``, as a harvest does); return the observations written."""
    from sqlalchemy import select

    from opendata.store import make_engine, runs, schema
    from opendata.store import writer as w

    env = {**os.environ, "OPENDATA_DATABASE_URL": url, "OPENDATA_LOG_LEVEL": "WARNING"}
    opendata = str(Path(sys.executable).with_name("opendata"))
    subprocess.run([opendata, "db", "upgrade"], env=env, check=True, capture_output=True)
    engine = make_engine(url)
    total = 0
    try:
        for shape in shapes:
            spec = DatasetSpec(
                id=shape.id,
                title={"id": shape.title, "en": f"Synthetic: {shape.id}"},
                source="bps",
                query={"domain": "6300", "var": shape.id},
                path=Path(__file__),
                license="CC BY 4.0",
                attribution="Synthetic data for the benchmark",
                frequency=shape.frequency,
                tags=("bench",),
            )
            result = parse_result(shape, rng)
            with engine.begin() as conn:
                run_id = runs.start_run(conn, batch, spec.id, offline=True)
                known = set(conn.execute(select(schema.region.c.code)).scalars())
                counts = w.write_dataset(conn, spec, "Badan Pusat Statistik", result, run_id, known)
                runs.finish_run(conn, run_id, "ok", counts)
            total += counts.added
    finally:
        engine.dispose()
    return total


def _write(path: Path) -> int:
    """Write every synthetic dataset into a fresh store at ``path``."""
    rng = random.Random(SEED)
    total = write_shapes(f"sqlite:///{path}", shapes(rng), rng, "bench-api")
    with sqlite3.connect(path) as conn:  # fold the WAL in: the cached file stands alone
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return total


def ensure_store(force: bool = False, quiet: bool = False) -> Path:
    """The cached synthetic store, made first if missing (or ``force``)."""
    path = store_path()
    if path.exists() and not force:
        return path
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("api-store-*.sqlite3*"):
        old.unlink()
    tmp = path.with_name(path.name + ".tmp")
    started = time.perf_counter()
    if not quiet:
        print(f"generating the synthetic store {path.name} (10-20 s) ...", flush=True)
    total = _write(tmp)
    for suffix in ("-wal", "-shm"):
        Path(f"{tmp}{suffix}").unlink(missing_ok=True)
    os.replace(tmp, path)
    if not quiet:
        print(f"{total:,} observations in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description="make the API benchmark's synthetic store")
    parser.add_argument("--force", action="store_true", help="make it again even if cached")
    args = parser.parse_args()
    print(ensure_store(force=args.force))


if __name__ == "__main__":
    main()
