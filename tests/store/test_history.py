"""History reads: the store as served at an instant, the changes after one, a cell's versions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from opendata.store import history, queries
from opendata.store import schema as t
from opendata.store.runs import finish_run, start_run
from opendata.store.writer import write_dataset
from tests import fakes

CELL = ("6371", "2024", "1")
OTHER = ("6371", "2024", "2")
LATER = ("6372", "2024", "1")
DAY = [datetime(2026, 3, d, 2, 0, tzinfo=UTC) for d in range(1, 10)]
TICK = timedelta(microseconds=1)


def harvest(engine, cells, at: datetime, indicator: str = "1") -> int:
    """One harvest of ``cells`` whose run finishes at ``at``; its run id."""
    with engine.begin() as conn:
        run_id = start_run(conn, "batch", "demo", offline=True)
        known = set(conn.execute(select(t.region.c.code)).scalars())
        counts = write_dataset(
            conn, fakes.spec(), "Fake", fakes.result(cells, indicator), run_id, known
        )
        finish_run(conn, run_id, "ok", counts)
        naive = at.astimezone(UTC).replace(tzinfo=None)
        conn.execute(
            update(t.harvest_run).where(t.harvest_run.c.id == run_id).values(finished_at=naive)
        )
    return run_id


def _cell_key(conn, row) -> tuple[str, str, str]:
    dims = history.series_dimensions(conn, "demo", [row.series_id])[row.series_id]
    return (row.region_code, row.period, dims["jenis_kelamin"][0])


def served_at(engine, instant: datetime) -> dict:
    with engine.connect() as conn:
        run = history.run_at(conn, instant)
        query = queries.ObservationQuery("demo", as_of_run=run.run_id)
        return {_cell_key(conn, r): r.value_text for r in queries.iter_observations(conn, query)}


def changes_after(engine, instant: datetime) -> dict:
    with engine.connect() as conn:
        after = history.run_at(conn, instant).run_id
        until = history.latest_run(conn).run_id
        query = queries.ObservationQuery("demo", changed_after_run=after, changed_until_run=until)
        rows = conn.execute(queries._observation_select(query)).all()
        return {_cell_key(conn, r): (r.change, r.value_text, r.updated_at) for r in rows}


def _history(engine):
    """Five harvests: added, revised, withdrawn, back, unchanged; OTHER stays; LATER is new."""
    harvest(engine, {CELL: "4.02", OTHER: "1"}, DAY[1])
    harvest(engine, {CELL: "4.03", OTHER: "1"}, DAY[2])
    harvest(engine, {OTHER: "1"}, DAY[3])  # 2024 published without CELL: withdrawn
    harvest(engine, {CELL: "4.03", OTHER: "1", LATER: "9"}, DAY[4])  # back, and LATER added
    harvest(engine, {CELL: "4.03", OTHER: "1", LATER: "9"}, DAY[5])  # nothing changed


def test_as_of_serves_what_was_served_at_that_instant(engine):
    _history(engine)
    assert served_at(engine, DAY[0]) == {}  # before the first harvest: nothing, no error
    assert served_at(engine, DAY[1] - TICK) == {}
    assert served_at(engine, DAY[1]) == {CELL: "4.02", OTHER: "1"}  # from its run's end on
    assert served_at(engine, DAY[2] - TICK) == {CELL: "4.02", OTHER: "1"}
    assert served_at(engine, DAY[2]) == {CELL: "4.03", OTHER: "1"}
    assert served_at(engine, DAY[3]) == {OTHER: "1"}  # withdrawn since
    assert served_at(engine, DAY[4]) == {CELL: "4.03", OTHER: "1", LATER: "9"}
    assert served_at(engine, DAY[8]) == {CELL: "4.03", OTHER: "1", LATER: "9"}


def test_as_of_now_is_the_current_data(engine):
    _history(engine)
    with engine.connect() as conn:
        now = list(queries.iter_observations(conn, queries.ObservationQuery("demo")))
        query = queries.ObservationQuery("demo", as_of_run=history.latest_run(conn).run_id)
        assert list(queries.iter_observations(conn, query)) == now


def test_a_retired_series_is_served_until_its_retirement(engine):
    harvest(engine, {CELL: "4.02"}, DAY[1])
    harvest(engine, {CELL: "5"}, DAY[2], indicator="2")  # indicator 1 and its series retired
    assert served_at(engine, DAY[1]) == {CELL: "4.02"}
    assert served_at(engine, DAY[2]) == {CELL: "5"}  # the new indicator's series only
    with engine.connect() as conn:  # the same cell key, in two series: one went, one came
        query = queries.ObservationQuery("demo", changed_after_run=1, changed_until_run=2)
        rows = conn.execute(queries._observation_select(query))
        changes = sorted((r.change, r.value_text) for r in rows)
    assert changes == [("added", "5"), ("withdrawn", None)]


def test_changes_after_an_instant_say_what_changed_and_when(engine):
    _history(engine)
    naive = [day.replace(tzinfo=None) for day in DAY]
    assert changes_after(engine, DAY[0]) == {
        CELL: ("added", "4.03", naive[4]),  # not served at the start: added, as it is now
        OTHER: ("added", "1", naive[1]),
        LATER: ("added", "9", naive[4]),
    }
    assert changes_after(engine, DAY[1]) == {
        CELL: ("revised", "4.03", naive[4]),
        LATER: ("added", "9", naive[4]),
    }
    assert changes_after(engine, DAY[3]) == {  # CELL was withdrawn then: it came back
        CELL: ("added", "4.03", naive[4]),
        LATER: ("added", "9", naive[4]),
    }
    assert changes_after(engine, DAY[4]) == {}


def test_changes_report_a_withdrawal_without_values(engine):
    harvest(engine, {CELL: "4.02", OTHER: "1"}, DAY[1])
    harvest(engine, {OTHER: "1"}, DAY[2])
    assert changes_after(engine, DAY[1]) == {CELL: ("withdrawn", None, DAY[2].replace(tzinfo=None))}


def test_every_version_of_a_cell_with_its_runs(engine):
    _history(engine)
    with engine.connect() as conn:
        cells = history.page_of_cells(conn, queries.ObservationQuery("demo", regions=["6371"]))
    cell = next(c for c in cells if c.period == "2024" and c.series_id == 1)
    assert [
        (v.value_text, v.withdrawn, v.run_id, v.valid_from, v.valid_to) for v in cell.versions
    ] == [
        ("4.02", False, 1, DAY[1], DAY[2]),
        ("4.03", False, 2, DAY[2], DAY[3]),
        (None, True, 3, DAY[3], DAY[4]),
        ("4.03", False, 4, DAY[4], None),
    ]
