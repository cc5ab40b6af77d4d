"""Search over the bundled demo catalog and small fake catalogs, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from opendata.catalog import parse_spec
from opendata.cli import cli
from opendata.store import make_engine
from opendata.store import schema as t
from opendata.store.runs import finish_run, start_run
from opendata.store.search import SearchQuery, fold, index_dataset, query_terms, reindex, search
from opendata.store.writer import write_dataset
from tests import fakes

#: the demo datasets about poverty: their titles, tags or indicators say so in both languages
POVERTY = {
    "garis-kemiskinan-kabkota",
    "penduduk-miskin-provinsi",
    "persentase-penduduk-miskin-kabkota",
    "target-kemiskinan-kalsel",
}


def harvest_demo(store_url: str) -> None:
    """Harvest the bundled catalog offline into the store, as `make run` does."""
    env = {"OPENDATA_DATABASE_URL": store_url, "OPENDATA_CATALOG_DIR": ""}
    result = CliRunner().invoke(cli, ["harvest", "--all", "--offline"], env=env)
    assert result.exit_code == 0, result.output


@pytest.fixture
def demo(store_url, engine):
    harvest_demo(store_url)
    return engine


def _frozen(filters: dict) -> dict[str, frozenset[str]]:
    return {facet: frozenset(values) for facet, values in filters.items()}


def _search(engine, question: str, **filters) -> object:
    query = SearchQuery(question, _frozen(filters), limit=100)
    with engine.connect() as conn:
        return search(conn, query)


def _ids(result) -> list[str]:
    return [hit.id for hit in result.hits]


def test_folding_drops_case_accents_and_punctuation():
    assert fold("Kémiskinan  KOTA/Kab. (P0) — İstanbul") == "kemiskinan kota kab p0 istanbul"
    assert fold(None) == ""
    assert query_terms("Kemiskinan di Kalsel, kemiskinan!") == ["kemiskinan", "kalsel"]
    assert query_terms("di dan") == ["di", "dan"]  # only common words: they are the question


def test_kemiskinan_finds_the_poverty_datasets_first_in_both_languages(demo):
    result = _search(demo, "kemiskinan")
    assert set(_ids(result)[:4]) == POVERTY
    assert result.corrected is None
    assert result.hits[0].id == "garis-kemiskinan-kabkota"  # the one with the word in its title
    assert result.hits[0].matched == ("Garis Kemiskinan Menurut Kabupaten/Kota",)
    assert set(_ids(_search(demo, "poverty"))[:4]) == POVERTY
    assert _ids(_search(demo, "Poverty RATE"))[:3] == [
        "penduduk-miskin-provinsi",
        "persentase-penduduk-miskin-kabkota",
        "target-kemiskinan-kalsel",
    ]


@pytest.mark.parametrize("question", ["Kemiskinan", "KEMISKINAN", "kémiskinan", "kemiskinan?!"])
def test_case_accents_and_punctuation_do_not_matter(demo, question):
    assert _ids(_search(demo, question)) == _ids(_search(demo, "kemiskinan"))


def test_a_typo_still_finds_poverty_and_says_what_it_searched(demo):
    result = _search(demo, "kemiskinnan")
    assert result.corrected == "kemiskinan"
    assert result.terms == ("kemiskinan",)
    assert _ids(result) == _ids(_search(demo, "kemiskinan"))
    result = _search(demo, "povrety line")  # one word of two corrected, the other kept
    assert result.corrected == "poverty line"
    assert _ids(result) == ["garis-kemiskinan-kabkota", "penduduk-miskin-provinsi"]  # title first
    assert _search(demo, "zzyzx").total == 0  # nothing close: nothing found, nothing corrected
    assert _search(demo, "zzyzx").corrected is None


def test_words_match_as_beginnings_and_all_must_match(demo):
    assert set(_ids(_search(demo, "miskin"))) >= POVERTY - {"garis-kemiskinan-kabkota"}
    assert _ids(_search(demo, "pengangguran terbuka")) == ["tpt-provinsi", "target-tpt-kalsel"]
    assert _ids(_search(demo, "pengangguran ipm")) == []  # no dataset has both


def test_facets_count_over_the_other_filters(demo):
    everything = _search(demo, "kemiskinan")
    assert dict(everything.facets["source"]) == {"bps": 2, "spreadsheet": 3}
    assert dict(everything.facets["frequency"]) == {"annual": 4, "semiannual": 1}
    assert everything.facets["tag"][0] == ("kemiskinan", 4)
    assert dict(everything.facets["level"])["regency"] == 2

    bps = _search(demo, "kemiskinan", source={"bps"})
    assert set(_ids(bps)) == {"garis-kemiskinan-kabkota", "penduduk-miskin-provinsi"}
    assert bps.total == 2
    # a facet's own filter leaves its counts (pick another source: see what it adds) ...
    assert bps.facets["source"] == everything.facets["source"]
    # ... and narrows the others'
    assert dict(bps.facets["frequency"]) == {"annual": 1, "semiannual": 1}
    assert dict(bps.facets["tag"]) == {"kemiskinan": 2, "susenas": 2}

    narrowed = _search(demo, "kemiskinan", source={"bps", "spreadsheet"}, level={"regency"})
    assert set(_ids(narrowed)) == {"garis-kemiskinan-kabkota", "persentase-penduduk-miskin-kabkota"}
    assert _search(demo, "kemiskinan", tag={"susenas"}, frequency={"annual"}).total == 1
    assert _search(demo, "kemiskinan", tag={"nope"}).total == 0


def test_pages_follow_the_ranking(demo):
    with demo.connect() as conn:
        whole = search(conn, SearchQuery("kalimantan", limit=100))
        pages = [search(conn, SearchQuery("kalimantan", limit=3, offset=o)) for o in (0, 3, 6)]
    assert whole.total > 6
    assert [hit.id for page in pages for hit in page.hits] == _ids(whole)[:9]
    assert {page.total for page in pages} == {whole.total}


# --- ranking and the index's upkeep, on small fake catalogs --------------------------------


def _spec(dataset_id: str, title: str, description: str = "", tags=(), en: str | None = None):
    raw = {
        "id": dataset_id,
        "title": {"id": title, **({"en": en} if en else {})},
        "description": {"id": description} if description else {},
        "source": "fake",
        "fake": {"n": 1},
        "frequency": "annual",
        "tags": list(tags),
    }
    return parse_spec(raw, Path(f"/nonexistent/{dataset_id}.yaml"))


def _write(engine, spec, cells=None, indicator="1"):
    result = fakes.result(cells or {("6371", "2024", "1"): "1"}, indicator=indicator)
    with engine.begin() as conn:
        run_id = start_run(conn, "batch", spec.id, offline=True)
        known = set(conn.execute(select(t.region.c.code)).scalars())
        counts = write_dataset(conn, spec, "Fake source", result, run_id, known)
        finish_run(conn, run_id, "ok", counts)


def _vocabulary(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(t.search_term.c.term, t.search_term.c.documents)).all())


def test_a_title_match_ranks_above_a_description_only_match(engine):
    _write(engine, _spec("a-harga", "Rata-rata upah buruh", "Upah dan harga di pasar"))
    _write(engine, _spec("b-harga", "Indeks harga konsumen", "Inflasi bulanan"))
    _write(engine, _spec("c-harga", "Jumlah penduduk", "Penduduk", tags=["harga"]))
    result = _search(engine, "harga")
    assert _ids(result) == ["b-harga", "c-harga", "a-harga"]  # title, tag, description
    assert [round(hit.score) for hit in result.hits] == [8, 5, 1]


def test_the_index_follows_each_harvest(engine):
    _write(engine, _spec("demo", "Jumlah penduduk", tags=["kependudukan"]))
    assert _ids(_search(engine, "penduduk")) == ["demo"]
    assert _vocabulary(engine)["kependudukan"] == 1
    _write(engine, _spec("demo", "Jumlah rumah tangga"))  # renamed, tag dropped
    assert _ids(_search(engine, "penduduk")) == ["demo"]  # its indicator is still "Penduduk"
    assert _ids(_search(engine, "tangga")) == ["demo"]
    assert "kependudukan" not in _vocabulary(engine)
    _write(engine, _spec("other", "Jumlah rumah tangga"), {("6372", "2024", "1"): "2"})
    assert _vocabulary(engine)["tangga"] == 2
    assert _search(engine, "tangga").hits[0].levels == ("regency",)


def test_a_dataset_that_serves_nothing_leaves_the_index(engine):
    _write(engine, _spec("demo", "Jumlah penduduk"))
    with engine.begin() as conn:  # as if its last indicator were retired
        conn.execute(t.indicator.update().values(retired_run_id=1))
        index_dataset(conn, "demo")
    assert _search(engine, "penduduk").total == 0
    assert _vocabulary(engine) == {}
    with engine.begin() as conn:
        assert reindex(conn) == 0


def test_the_migration_indexes_a_store_harvested_before_it(engine, store_url):
    from alembic import command

    from opendata.store import upgrade
    from opendata.store.engine import alembic_config

    _write(engine, _spec("demo", "Jumlah penduduk"))
    command.downgrade(alembic_config(engine), "0005")
    with engine.connect() as conn:
        assert "search_document" not in {
            name for (name,) in conn.execute(text(_TABLES[engine.dialect.name]))
        }
    upgrade(engine)
    assert _ids(_search(engine, "penduduk")) == ["demo"]
    assert _vocabulary(engine)["penduduk"] == 1


_TABLES = {
    "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
    "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
}


# --- both stores give the same answers -------------------------------------------------------

QUESTIONS = [
    ("kemiskinan", {}),
    ("poverty", {}),
    ("kemiskinnan", {}),
    ("KÉMISKINAN kota", {}),
    ("indeks", {}),
    ("kalimantan selatan", {"source": {"spreadsheet"}}),
    ("rate", {"level": {"regency", "district"}}),
    ("target", {"tag": {"ipm", "kemiskinan"}, "frequency": {"annual"}}),
    ("ipm", {}),
    ("lapor", {}),
    ("susenas maret", {}),
    ("pdrb harga konstan", {}),
]


@pytest.mark.postgres
def test_both_stores_give_the_same_answers(sqlite_template, postgres_server_url, tmp_path):
    from tests.conftest import _empty_postgres

    path = tmp_path / "store.sqlite3"
    shutil.copy(sqlite_template, path)
    urls = [f"sqlite:///{path}", postgres_server_url]
    answers = []
    for url in urls:
        engine = make_engine(url)
        if url == postgres_server_url:
            _empty_postgres(engine)
        harvest_demo(url)
        with engine.connect() as conn:
            answers.append(
                [
                    json.dumps(asdict(search(conn, SearchQuery(q, _frozen(f)))), default=sorted)
                    for q, f in QUESTIONS
                ]
            )
        engine.dispose()
    assert answers[0] == answers[1]
    assert all('"total": 0' not in answer for answer in answers[0])
