"""Each harvest states a dataset's whole structure: what it no longer has stops being served.

Kept in the store and marked, never deleted; a dimension renamed upstream keeps its identity.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from opendata.model import Dimension, DimensionValue, Indicator, ParseResult, Record
from opendata.store import queries
from opendata.store import schema as t
from opendata.store.runs import start_run
from opendata.store.writer import write_dataset
from tests import fakes

CELLS = {
    ("6371", "2024", "1"): "4.02",
    ("6371", "2024", "2"): "7.10",
    ("6372", "2024", "1"): "3.5",
    ("6372", "2024", "3"): "10",
}


def _write(engine, result: ParseResult):
    with engine.begin() as conn:
        run_id = start_run(conn, "batch", "demo", offline=True)
        known = set(conn.execute(select(t.region.c.code)).scalars())
        return run_id, write_dataset(conn, fakes.spec(), "Fake", result, run_id, known)


def _renamed(result: ParseResult, slug: str, label: str) -> ParseResult:
    """The same figures with the dimension's id and label changed (a BPS label edit)."""
    [dim] = result.dimensions
    result.dimensions = [Dimension(slug, label, dim.values)]
    result.records = [
        r._replace(dimensions=tuple((slug, code) for _old, code in r.dimensions))
        for r in result.records
    ]
    return result


def _served(engine) -> list[tuple]:
    """(region, period, {dimension: code}, value) of every served observation."""
    with engine.connect() as conn:
        sdims = queries.series_dimensions(conn, "demo")
        rows = queries.iter_observations(conn, queries.ObservationQuery("demo"))
        return [
            (
                r.region_code,
                r.period,
                {slug: code for slug, (code, _label) in sdims.get(r.series_id, {}).items()},
                r.value_text,
            )
            for r in rows
        ]


def _dimensions(engine) -> list[tuple[str, list[str]]]:
    with engine.connect() as conn:
        return [
            (d.slug, [code for code, _label, _total in d.values])
            for d in queries.dataset_dimensions(conn, "demo")
        ]


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_a_renamed_dimension_keeps_its_identity_and_serves_each_figure_once(engine):
    _write(engine, fakes.result(CELLS))
    series = _count(engine, t.series)
    _, counts = _write(engine, _renamed(fakes.result(CELLS), "sex", "Sex"))
    served = _served(engine)
    assert len(served) == len(CELLS)
    assert {(r, p, d["sex"], v) for r, p, d, v in served} == {
        (r, p, s, v) for (r, p, s), v in CELLS.items()
    }
    assert all(list(d) == ["sex"] for _r, _p, d, _v in served)
    assert _dimensions(engine) == [("sex", ["1", "2", "3"])]
    assert (counts.added, counts.changed, counts.unchanged) == (0, 0, len(CELLS))
    assert _count(engine, t.series) == series and _count(engine, t.dimension) == 1
    assert any("'jenis_kelamin' is now 'sex'" in m for m in counts.messages)
    # and back again: still one dimension, the same series
    _write(engine, fakes.result(CELLS))
    assert _dimensions(engine) == [("jenis_kelamin", ["1", "2", "3"])]
    assert len(_served(engine)) == len(CELLS) and _count(engine, t.series) == series


def test_a_dimension_value_no_longer_published_stops_being_served(engine):
    _write(engine, fakes.result(CELLS))
    result = fakes.result({k: v for k, v in CELLS.items() if k[2] != "3"})
    result.dimensions[0].values = [v for v in result.dimensions[0].values if v.code != "3"]
    _, counts = _write(engine, result)
    assert _dimensions(engine) == [("jenis_kelamin", ["1", "2"])]
    assert {d["jenis_kelamin"] for _r, _p, d, _v in _served(engine)} == {"1", "2"}
    assert counts.data_changed
    assert any("value 3 (Jumlah) is no longer published" in m for m in counts.messages)
    with engine.connect() as conn:  # kept and marked, never deleted
        assert conn.execute(select(func.count()).select_from(t.observation)).scalar() == 4
        retired = conn.execute(select(t.series).where(t.series.c.retired_run_id.is_not(None)))
        assert len(retired.all()) == 1


def test_a_dimension_no_longer_published_takes_its_series_with_it(engine):
    _write(engine, fakes.result(CELLS))
    result = ParseResult(
        indicators=[Indicator("1", "Penduduk", unit="Jiwa")],
        records=[Record("1", "6371", "2024", (), Decimal("11.12"))],
    )
    _write(engine, result)
    assert _dimensions(engine) == []
    assert _served(engine) == [("6371", "2024", {}, "11.12")]


def test_a_new_dimension_replaces_the_series_without_it(engine):
    result = ParseResult(
        indicators=[Indicator("1", "Penduduk", unit="Jiwa")],
        records=[Record("1", "6371", "2024", (), Decimal("11.12"))],
    )
    _write(engine, result)
    _write(engine, fakes.result(CELLS))
    assert len(_served(engine)) == len(CELLS)
    assert all(d for _r, _p, d, _v in _served(engine))


def test_an_indicator_no_longer_published_is_retired(engine):
    first = fakes.result(CELLS)
    second = fakes.result({("6371", "2024", "1"): "1"}, indicator="2")
    first.indicators += second.indicators
    first.records += second.records
    _write(engine, first)
    _write(engine, fakes.result(CELLS))
    with engine.connect() as conn:
        assert [i.code for i in queries.dataset_indicators(conn, "demo")] == ["1"]
    assert len(_served(engine)) == len(CELLS)


def test_cells_missing_from_a_published_period_are_withdrawn_and_may_come_back(engine):
    _write(engine, fakes.result({**CELLS, ("6371", "2023", "1"): "1"}))
    without = {k: v for k, v in CELLS.items() if k[0] != "6372"}
    run_id, counts = _write(engine, fakes.result(without))
    # 6372's 2024 cells are gone from a year the harvest published; 2023 was not asked for
    assert counts.withdrawn == 2 and counts.data_changed
    assert {(r, p) for r, p, _d, _v in _served(engine)} == {("6371", "2024"), ("6371", "2023")}
    with engine.connect() as conn:
        withdrawn = conn.execute(
            select(t.observation.c.withdrawn_run_id).where(
                t.observation.c.withdrawn_run_id.is_not(None)
            )
        ).scalars()
        assert set(withdrawn) == {run_id}
    _, counts = _write(engine, fakes.result(CELLS))
    assert (counts.added, counts.changed, counts.withdrawn) == (2, 0, 0)  # back: added again
    assert len(_served(engine)) == len(CELLS) + 1


def test_a_republished_text_is_served_as_the_source_now_writes_it(engine):
    _write(engine, fakes.result({("6371", "2024", "1"): "7.1"}))
    run_id, counts = _write(engine, fakes.result({("6371", "2024", "1"): "7.10"}))
    assert (counts.changed, counts.unchanged) == (1, 0)
    assert [v for *_k, v in _served(engine)] == ["7.10"]
    with engine.connect() as conn:
        revision = conn.execute(select(t.observation_revision)).one()
    assert (revision.value_text, revision.run_id) == ("7.1", run_id)


def test_a_dimension_renamed_with_other_values_is_a_new_dimension(engine):
    _write(engine, fakes.result(CELLS))
    result = fakes.result({("6371", "2024", "1"): "5"})
    result.dimensions = [Dimension("sex", "Sex", [DimensionValue("1", "Male")])]
    result.records = [r._replace(dimensions=(("sex", "1"),)) for r in result.records]
    _write(engine, result)
    assert _dimensions(engine) == [("sex", ["1"])]
    assert _served(engine) == [("6371", "2024", {"sex": "1"}, "5")]


def _area(cells) -> ParseResult:
    """Another breakdown (urban/rural) that BPS also numbers 1, 2, 3."""
    values = [DimensionValue("1", "Perkotaan"), DimensionValue("2", "Perdesaan")]
    values.append(DimensionValue("3", "Jumlah", is_total=True))
    return ParseResult(
        indicators=[Indicator("1", "Penduduk", unit="Jiwa", decimals=0)],
        dimensions=[Dimension("daerah", "Daerah", values)],
        records=[Record("1", r, p, (("daerah", c),), Decimal(v)) for (r, p, c), v in cells.items()],
    )


def test_another_breakdown_that_reuses_the_codes_inherits_nothing(engine):
    _write(engine, fakes.result({("6371", "2023", "1"): "100", ("6371", "2024", "1"): "101"}))
    _, counts = _write(engine, _area({("6371", "2024", "1"): "55"}))
    assert _served(engine) == [("6371", "2024", {"daerah": "1"}, "55")]
    assert (counts.added, counts.changed) == (1, 0)
    assert _dimensions(engine) == [("daerah", ["1", "2", "3"])]


def test_a_retired_breakdown_is_not_revived_under_another_id(engine):
    _write(engine, fakes.result({("6371", "2023", "1"): "100", ("6371", "2024", "1"): "101"}))
    totals = ParseResult(
        indicators=[Indicator("1", "Penduduk", unit="Jiwa")],
        records=[Record("1", "6371", "2024", (), Decimal("300"))],
    )
    _write(engine, totals)
    renamed = _renamed(fakes.result({("6371", "2024", "1"): "101"}), "sex", "Sex")
    _write(engine, renamed)
    assert _served(engine) == [("6371", "2024", {"sex": "1"}, "101")]


def _two(dims, cells) -> ParseResult:
    def values():
        return [DimensionValue("1", "a"), DimensionValue("2", "b")]

    return ParseResult(
        indicators=[Indicator("1", "P", unit="Jiwa")],
        dimensions=[Dimension(d, d, values()) for d in dims],
        records=[
            Record("1", "6371", p, tuple(zip(dims, codes, strict=True)), Decimal(v))
            for (p, codes), v in cells.items()
        ],
    )


def test_two_dimensions_with_the_same_values_are_never_guessed(engine):
    _write(engine, _two(["sex", "area"], {("2023", ("1", "2")): "10", ("2024", ("1", "2")): "11"}))
    # both renamed upstream, listed the other way round: which is which cannot be told
    _write(engine, _two(["daerah", "jk"], {("2024", ("2", "1")): "12"}))
    assert _served(engine) == [("6371", "2024", {"daerah": "2", "jk": "1"}, "12")]
    assert [slug for slug, _codes in _dimensions(engine)] == ["daerah", "jk"]


def test_a_renamed_dimension_with_relabelled_values_is_a_new_one(engine):
    _write(engine, fakes.result(CELLS))
    result = _renamed(fakes.result(CELLS), "sex", "Sex")
    result.dimensions[0].values[0] = DimensionValue("1", "Pria")
    _write(engine, result)
    assert len(_served(engine)) == len(CELLS)
    with engine.connect() as conn:
        retired = conn.execute(
            select(t.dimension.c.slug).where(t.dimension.c.retired_run_id.is_not(None))
        ).scalars()
        assert list(retired) == ["jenis_kelamin"]
