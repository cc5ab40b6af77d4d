"""The store keeps exactly what sources sent, and never deletes."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from opendata.model import ParseResult, Record, Region
from opendata.store import queries
from opendata.store import schema as t
from opendata.store.runs import start_run
from opendata.store.writer import WriteError, write_dataset
from tests import fakes


def _write(engine, result: ParseResult):
    with engine.begin() as conn:
        run_id = start_run(conn, "batch", "demo", offline=True)
        known = set(conn.execute(select(t.region.c.code)).scalars())
        counts = write_dataset(conn, fakes.spec(), "Fake", result, run_id, known)
    return run_id, counts


def _values(engine) -> dict[tuple[str, str, str], str | None]:
    with engine.connect() as conn:
        sdims = queries.series_dimensions(conn, "demo")
        rows = queries.iter_observations(conn, queries.ObservationQuery("demo"))
        return {
            (r.region_code, r.period, sdims[r.series_id]["jenis_kelamin"][0]): r.value_text
            for r in rows
        }


def test_values_come_out_exactly_as_they_went_in(engine):
    cells = {
        ("6371", "2024", "1"): "7.10",
        ("6371", "2024", "2"): "683244",
        ("6372", "2024", "1"): "-0.47",
        ("6372", "2024", "2"): "0.000000000000000000012345678901234567",
        ("6300", "2024", "3"): None,
    }
    _write(engine, fakes.result(cells))
    assert _values(engine) == cells


def test_unchanged_reharvest_changes_nothing(engine):
    _write(engine, fakes.result({("6371", "2024", "1"): "7.10"}))
    with engine.connect() as conn:
        version = queries.data_version(conn)
    _, counts = _write(engine, fakes.result({("6371", "2024", "1"): "7.10"}))
    assert (counts.added, counts.changed, counts.unchanged) == (0, 0, 1)
    with engine.connect() as conn:
        assert queries.data_version(conn) == version
    assert _values(engine) == {("6371", "2024", "1"): "7.10"}


def test_a_revision_keeps_the_value_it_replaced(engine):
    first_run, _ = _write(engine, fakes.result({("6371", "2024", "1"): "4.02"}))
    second_run, counts = _write(engine, fakes.result({("6371", "2024", "1"): "4.03"}))
    assert counts.changed == 1
    assert _values(engine) == {("6371", "2024", "1"): "4.03"}
    with engine.connect() as conn:
        revision = conn.execute(select(t.observation_revision)).one()
        obs = conn.execute(select(t.observation)).one()
    assert (revision.value_text, revision.run_id) == ("4.02", second_run)
    assert (obs.first_seen_run_id, obs.last_changed_run_id) == (first_run, second_run)


def test_a_cell_that_vanishes_upstream_stays_served(engine):
    _write(engine, fakes.result({("6371", "2023", "1"): "1", ("6371", "2024", "1"): "2"}))
    _, counts = _write(engine, fakes.result({("6371", "2024", "1"): "2"}))
    assert counts.unchanged == 1
    assert _values(engine) == {("6371", "2023", "1"): "1", ("6371", "2024", "1"): "2"}


def test_two_cells_for_one_observation_are_refused(engine):
    result = fakes.result({("6371", "2024", "1"): "1"})
    result.records.append(result.records[0])
    with pytest.raises(WriteError, match="two cells"):
        _write(engine, result)


def test_unknown_region_is_refused_and_new_regions_are_added(engine):
    result = fakes.result({("6371999", "2024", "1"): "5"})
    with pytest.raises(WriteError, match="6371999"):
        _write(engine, result)
    result.regions.append(Region("6371999", "Banjarmasin Test", "district", "6371"))
    _write(engine, result)
    with engine.connect() as conn:
        row = conn.execute(select(t.region).where(t.region.c.code == "6371999")).one()
    assert (row.origin, row.parent_code, row.level) == ("harvest", "6371", "district")


def test_periods_are_intervals(engine):
    cells = {("6371", p, "1"): "1" for p in ("2024", "2024-S2", "2024-Q3", "2024-08", "2024-01")}
    _write(engine, fakes.result(cells))
    with engine.connect() as conn:
        rows = list(queries.iter_observations(conn, queries.ObservationQuery("demo")))
        assert [r.period for r in rows] == ["2024-01", "2024", "2024-Q3", "2024-S2", "2024-08"]
        q = queries.ObservationQuery("demo", start=rows[0].period_start.replace(month=7))
        assert {r.period for r in queries.iter_observations(conn, q)} == {
            "2024-S2",
            "2024-Q3",
            "2024-08",
        }
        assert conn.execute(select(func.count()).select_from(t.series)).scalar() == 1


def test_records_without_value_keep_their_note(engine):
    result = fakes.result({})
    result.records.append(
        Record("1", "6371", "2024", (("jenis_kelamin", "1"),), None, flag="e", note="-")
    )
    _write(engine, result)
    with engine.connect() as conn:
        rows = queries.iter_observations(conn, queries.ObservationQuery("demo"))
        row = next(rows)
        rows.close()
    assert (row.value_text, row.flag, row.note) == (None, "e", "-")
    assert Decimal("7.10") == Decimal("7.1")


def test_the_schema_revision_is_the_newest_migration(engine):
    from opendata.store.engine import current_revision, head_revision
    from opendata.store.schema import SCHEMA_REVISION

    assert head_revision(engine) == SCHEMA_REVISION == current_revision(engine)


def test_the_migrations_build_exactly_the_tables_of_the_schema(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from opendata.store.schema import include_name, metadata

    with engine.connect() as conn:  # but the full-text index, which each store makes its own way
        context = MigrationContext.configure(conn, opts={"include_name": include_name})
        assert compare_metadata(context, metadata) == []


def test_a_changed_region_name_moves_the_data_version(engine):
    from opendata.regions import RegionIndex
    from opendata.store.writer import set_meta, sync_regions

    with engine.begin() as conn:
        conn.execute(
            t.region.update().where(t.region.c.code == "6371").values(name="Banjarmasin (old)")
        )
        set_meta(conn, "regions_checksum", "stale")
        version = queries.data_version(conn)
        assert sync_regions(conn, RegionIndex.reference())
        assert queries.data_version(conn) == version + 1
        name = conn.execute(select(t.region.c.name).where(t.region.c.code == "6371")).scalar()
    assert name == "Kota Banjarmasin"


@pytest.mark.parametrize("value", ["1E+400", "1E-400", "NaN", "Infinity"])
def test_values_no_statistic_can_have_are_refused(engine, value):
    with pytest.raises(WriteError, match="not a figure a statistic can have"):
        _write(engine, fakes.result({("6371", "2024", "1"): value}))


def _ranges(engine) -> list[tuple[str | None, str | None]]:
    with engine.connect() as conn:
        o = t.observation
        return [tuple(r) for r in conn.execute(select(o.c.value_text, o.c.value_to_text))]


def _range_result(low: str, high: str | None) -> ParseResult:
    result = fakes.result({("6300", "2024", "3"): low})
    value_to = None if high is None else Decimal(high)
    result.records[:] = [r._replace(value_to=value_to) for r in result.records]
    return result


def test_a_range_keeps_both_ends_as_published_and_in_their_order(engine):
    """A target ``0,22-0,18`` stays 0.22 then 0.18; an end that changes is a revision."""
    _write(engine, _range_result("0.22", "0.18"))
    assert _ranges(engine) == [("0.22", "0.18")]
    _, counts = _write(engine, _range_result("0.22", "0.18"))
    assert (counts.changed, counts.unchanged) == (0, 1)
    second_run, counts = _write(engine, _range_result("0.22", "0.180"))
    assert counts.changed == 1
    assert _ranges(engine) == [("0.22", "0.180")]
    _, counts = _write(engine, _range_result("0.22", None))  # no longer a range: a change too
    assert counts.changed == 1 and _ranges(engine) == [("0.22", None)]
    with engine.connect() as conn:
        revisions = conn.execute(
            select(
                t.observation_revision.c.run_id, t.observation_revision.c.value_to_text
            ).order_by(t.observation_revision.c.id)
        ).all()
    assert [tuple(r) for r in revisions][0] == (second_run, "0.18")
    assert [r[1] for r in revisions] == ["0.18", "0.180"]
