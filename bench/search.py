"""Search at 10,000 datasets: the store function and the HTTP app, SQLite and PostgreSQL.

``python bench/search.py`` makes a store of 10,000 synthetic datasets on each store kind (SQLite
in ``bench/out/``; PostgreSQL as a database of its own on the server of ``--postgres-url``,
default ``OPENDATA_TEST_POSTGRES_URL``, dropped at the end), then times, median of ``--rounds``:

- ``store``: ``opendata.store.search.search`` (match, rank, facets, a page of 20);
- ``http``: ``GET /api/v1/search`` through the whole Flask app (in-process WSGI test client,
  response cache off: ``OPENDATA_CACHE_MB=0``), JSON included;
- ``like``, the reference: what a first version would run, a plain scan of the same datasets'
  titles and descriptions, ``lower(title_id) LIKE '%word%' OR ...`` for each word (no ranking,
  no facets, no typo tolerance), fetching the ids.

for a set of questions: a common word (a sixth of the datasets have it: the most work for the
ranking, done in Python over every dataset found), a rarer one, two words, a typo of the common
word, and a word with two facet filters.

The datasets: titles of 3-7 Indonesian statistics words and an English title, descriptions of
10-20 words, 2-3 tags, 1-3 indicators, words drawn with Zipf weights (a few words are common,
most are rare, as in a real catalog); each with series in 1-3 regions of different levels (for
the ``level`` facet). Rows are inserted in bulk, then indexed by ``search.reindex`` (as
migration 0006 backfills; its time is reported), then 100 datasets again one at a time by
``search.index_dataset``, the writer's hook (the time of one is reported). Seeded.

A measurement, not a test: nothing here asserts a time. Writes ``bench/out/search.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from opendata.regions import RegionIndex  # noqa: E402
from opendata.store import (  # noqa: E402
    make_engine,
    search,  # noqa: E402
    upgrade,
)
from opendata.store import schema as t  # noqa: E402
from opendata.store.writer import sync_regions  # noqa: E402

OUT = ROOT / "bench" / "out"
DATASETS = 10_000
SEED = 20261202

INDONESIAN = """
penduduk miskin kemiskinan pengangguran terbuka tingkat indeks pembangunan manusia harga
konsumen inflasi produk domestik regional bruto pertanian padi jagung kedelai luas panen
produksi ekspor impor pendidikan sekolah murid guru kesehatan rumah sakit bidan angka kematian
bayi harapan hidup upah buruh tenaga kerja industri pariwisata hotel kamar tamu jalan kendaraan
listrik air bersih desa kecamatan kabupaten kota provinsi jenis kelamin kelompok umur lapangan
usaha pengeluaran kapita gini rasio ketimpangan sanitasi layak perumahan nelayan perikanan
tangkap budidaya hutan tambang batubara karet sawit perkebunan peternakan sapi ayam telur
beras gabah nilai tukar petani koperasi pasar tradisional modern investasi belanja daerah
pendapatan asli pajak retribusi anggaran realisasi penerimaan keluarga berencana akseptor
imunisasi gizi buruk balita stunting posyandu puskesmas dokter tenaga medis apotek obat
kriminalitas kejadian bencana banjir kebakaran lahan curah hujan suhu kelembaban sungai
transportasi penumpang bandara pelabuhan bongkar muat barang kapal angkutan pos telekomunikasi
internet seluler sinyal blank spot pemilih pemilu partai kursi dewan perwakilan agama masjid
gereja pura vihara olahraga kebudayaan seni bahasa literasi membaca perpustakaan
""".split()
ENGLISH = """
population poverty unemployment rate index human development price consumer inflation gross
regional domestic product agriculture rice maize harvest area production export import
education school pupils teachers health hospital midwives mortality infant life expectancy
wages workers labour industry tourism hotel rooms guests roads vehicles electricity water
village district regency city province sex age group sector expenditure per capita ratio
inequality sanitation housing fishery forest mining coal rubber palm oil plantation livestock
""".split()
TAGS = """
kemiskinan ketenagakerjaan ipm ekonomi pdrb pertanian pendidikan kesehatan kependudukan
perdagangan pariwisata infrastruktur keuangan-daerah lingkungan bencana sosial tata-kelola
""".split()
SOURCES = ("bps", "spreadsheet", "ckan", "sdmx")
FREQUENCIES = ("annual", "annual", "annual", "semiannual", "quarterly", "monthly")
#: the questions, with the filters of each: (name, q, filters)
QUESTIONS = [
    ("common word", "kemiskinan", {}),
    ("rarer word", "kabupaten", {}),
    ("two words", "penduduk miskin", {}),
    ("typo", "kemiskinnan", {}),
    ("word+filters", "pendidikan", {"source": ["bps"], "level": ["regency"]}),
]


def _zipf(words: list[str], rng: random.Random):
    """Draw words with weights 1/rank (the order shuffled once, seeded)."""
    order = words[:]
    rng.shuffle(order)
    weights = [1 / (rank + 1) for rank in range(len(order))]
    return lambda k: rng.choices(order, weights, k=k)


def _rows(rng: random.Random, regions: dict[str, list[str]]):
    """The dataset, indicator and series rows of the synthetic catalog."""
    indonesian, english = _zipf(INDONESIAN, rng), _zipf(ENGLISH, rng)
    datasets, indicators, series = [], [], []
    for number in range(DATASETS):
        dataset_id = f"bench-search-{number:05d}"
        datasets.append(
            {
                "id": dataset_id,
                "source_id": rng.choice(SOURCES),
                "title_id": " ".join(indonesian(rng.randint(3, 7))).capitalize(),
                "title_en": " ".join(english(rng.randint(3, 6))).capitalize(),
                "description_id": " ".join(indonesian(rng.randint(10, 20))).capitalize() + ".",
                "frequency": rng.choice(FREQUENCIES),
                "tags": json.dumps(rng.sample(TAGS, rng.randint(2, 3))),
                "query": "{}",
            }
        )
        for code in range(rng.randint(1, 3)):
            indicator_id = len(indicators) + 1
            indicators.append(
                {
                    "id": indicator_id,
                    "dataset_id": dataset_id,
                    "code": str(code),
                    "name": " ".join(indonesian(rng.randint(2, 5))).capitalize(),
                }
            )
            for level in rng.sample(list(regions), rng.randint(1, 3)):
                series.append(
                    {
                        "dataset_id": dataset_id,
                        "indicator_id": indicator_id,
                        "region_code": rng.choice(regions[level]),
                        "dims_key": "",
                    }
                )
    return datasets, indicators, series


def fill(url: str) -> dict:
    """Make the store at ``url`` (migrated, empty) hold the catalog and its index; timings."""
    engine = make_engine(url)
    upgrade(engine)
    rng = random.Random(SEED)
    with engine.begin() as conn:
        sync_regions(conn, RegionIndex.reference())
        regions: dict[str, list[str]] = {}
        for code, level in conn.execute(select(t.region.c.code, t.region.c.level)):
            regions.setdefault(level, []).append(code)
        datasets, indicators, series = _rows(rng, regions)
        conn.execute(insert(t.source), [{"id": s, "title": s.upper()} for s in SOURCES])
        conn.execute(insert(t.dataset), datasets)
        conn.execute(insert(t.indicator), indicators)
        conn.execute(insert(t.series), series)
    started = time.perf_counter()
    with engine.begin() as conn:  # as migration 0006 backfills a store
        search.reindex(conn)
    indexed = time.perf_counter() - started
    started = time.perf_counter()
    with engine.begin() as conn:  # as the writer, after a harvest changed one dataset
        for row in datasets[:100]:
            search.index_dataset(conn, row["id"])
    one = (time.perf_counter() - started) / 100
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
        terms = conn.execute(select(t.search_term.c.term)).all()
    engine.dispose()
    return {
        "reindex_s": round(indexed, 2),
        "index_one_ms": round(one * 1000, 2),
        "vocabulary": len(terms),
        "series": len(series),
    }


def _like(conn, question: str) -> list[str]:
    """The reference: a LIKE scan of titles and descriptions, every word in one of them."""
    columns = ("title_id", "title_en", "description_id", "description_en")
    where, params = [], {}
    for number, word in enumerate(search.query_terms(question)):
        params[f"w{number}"] = f"%{word}%"
        where.append(
            "(" + " OR ".join(f"lower(coalesce({c}, '')) LIKE :w{number}" for c in columns) + ")"
        )
    sql = f"SELECT id FROM dataset WHERE {' AND '.join(where)}"
    return list(conn.execute(text(sql), params).scalars())


def _median_ms(call, rounds: int) -> float:
    call()  # warm: the first call pays for the statement cache and the pages' reads
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 2)


def measure(url: str, rounds: int) -> dict:
    """Median milliseconds of each question: store function, HTTP app, LIKE reference."""
    from urllib.parse import urlencode

    from opendata import create_app

    app = create_app({"DATABASE_URL": url, "CATALOG_DIR": "", "CACHE_MB": 0})
    client = app.test_client()
    engine = make_engine(url)
    results = {}
    with engine.connect() as conn:
        for name, question, filters in QUESTIONS:
            query = search.SearchQuery(question, {k: frozenset(v) for k, v in filters.items()})
            found = search.search(conn, query)
            params = urlencode([("q", question), *((k, ",".join(v)) for k, v in filters.items())])
            response = client.get(f"/api/v1/search?{params}")
            assert response.status_code == 200, response.get_data(as_text=True)
            assert response.get_json()["total"] == found.total
            results[name] = {
                "q": question,
                "filters": filters,
                "found": found.total,
                "corrected": found.corrected,
                "like_found": len(_like(conn, question)),
                "store_ms": _median_ms(lambda q=query: search.search(conn, q), rounds),
                "http_ms": _median_ms(lambda p=params: client.get(f"/api/v1/search?{p}"), rounds),
                "like_ms": _median_ms(lambda q=question: _like(conn, q), rounds),
            }
    engine.dispose()
    app.extensions["opendata"].engine.dispose()
    return results


class _Postgres:
    """A database of its own on the server of ``server_url``, dropped on exit."""

    def __init__(self, server_url: str):
        self.admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
        self.name = f"opendata_bench_search_{uuid.uuid4().hex[:8]}"
        self.url = make_url(server_url).set(database=self.name).render_as_string(False)

    def __enter__(self):
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        return self

    def __exit__(self, *_exc):
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def _run(url: str, rounds: int) -> dict:
    started = time.perf_counter()
    built = fill(url)
    print(f"  built in {time.perf_counter() - started:.0f} s: {built}", flush=True)
    return {"store": built, "questions": measure(url, rounds)}


def report(result: dict) -> None:
    for store, found in result["stores"].items():
        built = found["store"]
        print(
            f"\n{store}: {DATASETS:,} datasets, {built['vocabulary']:,} words, "
            f"reindexed in {built['reindex_s']} s, one dataset in {built['index_one_ms']} ms"
        )
        print(f"  {'question':14} {'found':>6} {'store ms':>9} {'http ms':>8} {'LIKE ms':>8} ratio")
        for name, q in found["questions"].items():
            ratio = q["store_ms"] / q["like_ms"] if q["like_ms"] else float("nan")
            print(
                f"  {name:14} {q['found']:>6} {q['store_ms']:>9} {q['http_ms']:>8} "
                f"{q['like_ms']:>8} {ratio:5.2f}x"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description="search at 10,000 datasets")
    parser.add_argument("--rounds", type=int, default=15, help="timings of each (median)")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("OPENDATA_TEST_POSTGRES_URL"),
        help="a PostgreSQL server to make a database on (default OPENDATA_TEST_POSTGRES_URL)",
    )
    parser.add_argument("--no-postgres", action="store_true", help="measure SQLite only")
    args = parser.parse_args()
    if not args.no_postgres and not args.postgres_url:
        parser.error("name a PostgreSQL server (--postgres-url) or pass --no-postgres")
    OUT.mkdir(exist_ok=True)
    result = {
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "datasets": DATASETS,
        "rounds": args.rounds,
        "stores": {},
    }
    path = OUT / "search-store.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    print("making the SQLite store ...", flush=True)
    result["stores"]["sqlite"] = _run(f"sqlite:///{path}", args.rounds)
    if not args.no_postgres:
        with _Postgres(args.postgres_url) as postgres:
            print(f"making the PostgreSQL store {postgres.name} ...", flush=True)
            result["stores"]["postgresql"] = _run(postgres.url, args.rounds)
    (OUT / "search.json").write_text(json.dumps(result, indent=2) + "\n")
    report(result)


if __name__ == "__main__":
    main()
