"""A cell's versions: every value it had, with the runs that wrote and ended it, withdrawals too."""

from __future__ import annotations

from alembic import command
from sqlalchemy import select, text

from opendata.store import schema as t
from opendata.store.engine import alembic_config, upgrade
from tests import fakes
from tests.store.test_writer import _write

CELL = ("6371", "2024", "1")
OTHER = ("6371", "2024", "2")


def _versions(engine) -> list[tuple]:
    """(valid from run, valid to run, value, withdrawn) of CELL, oldest first, current last."""
    r, o = t.observation_revision, t.observation
    with engine.connect() as conn:
        obs = conn.execute(select(o).order_by(o.c.id)).first()
        earlier = conn.execute(
            select(r.c.valid_from_run_id, r.c.run_id, r.c.value_text, r.c.withdrawn)
            .where(r.c.observation_id == obs.id)
            .order_by(r.c.id)
        ).all()
    current = (obs.last_changed_run_id, None, obs.value_text, obs.withdrawn_run_id is not None)
    return [tuple(v) for v in earlier] + [current]


def test_each_version_knows_the_runs_that_wrote_and_ended_it(engine):
    one, _ = _write(engine, fakes.result({CELL: "4.02", OTHER: "1"}))
    two, _ = _write(engine, fakes.result({CELL: "4.03", OTHER: "1"}))
    three, counts = _write(engine, fakes.result({OTHER: "1"}))  # 2024 published without CELL
    assert counts.withdrawn == 1
    four, counts = _write(engine, fakes.result({CELL: "4.03", OTHER: "1"}))  # it comes back
    assert (counts.added, counts.changed) == (1, 0)  # a withdrawn cell back: a new version, added
    five, counts = _write(engine, fakes.result({CELL: "4.03", OTHER: "1"}))
    assert counts.unchanged == 2  # the same figures again: no version
    assert _versions(engine) == [
        (one, two, "4.02", False),
        (two, three, "4.03", False),
        (three, four, "4.03", True),  # withdrawn from run three until run four
        (four, None, "4.03", False),
    ]


def test_0004_backfills_the_start_of_revisions_and_past_withdrawals(engine):
    one, _ = _write(engine, fakes.result({CELL: "4.02", OTHER: "1"}))
    two, _ = _write(engine, fakes.result({CELL: "4.03", OTHER: "1"}))
    command.downgrade(alembic_config(engine), "0003")
    with engine.begin() as conn:  # a withdrawal as 0003's writer made it: no revision row
        three = two + 1
        conn.execute(
            text("UPDATE observation SET withdrawn_run_id = :r, last_changed_run_id = :r "),
            {"r": three},
        )
        conn.execute(text("DELETE FROM observation_revision WHERE run_id = :r"), {"r": three})
    upgrade(engine)
    cells = _versions(engine)
    assert cells == [
        (one, two, "4.02", False),
        (two, three, "4.03", False),
        (three, None, "4.03", True),
    ]


def test_0004_down_and_up_again_keeps_every_version(engine):
    one, _ = _write(engine, fakes.result({CELL: "4.02", OTHER: "1"}))
    two, _ = _write(engine, fakes.result({OTHER: "1"}))  # CELL withdrawn
    three, _ = _write(engine, fakes.result({CELL: "4.03", OTHER: "1"}))  # back, revised
    four, _ = _write(engine, fakes.result({OTHER: "1"}))  # withdrawn again, and stays so
    before = _versions(engine)
    assert before == [
        (one, two, "4.02", False),
        (two, three, "4.02", True),
        (three, four, "4.03", False),
        (four, None, "4.03", True),
    ]
    command.downgrade(alembic_config(engine), "0003")
    upgrade(engine)
    # 0003 kept no withdrawal versions: the first withdrawal's interval is folded into the
    # version before it (as an upgrade from a real 0003 store gives); nothing is doubled
    assert _versions(engine) == [
        (one, three, "4.02", False),
        (three, four, "4.03", False),
        (four, None, "4.03", True),
    ]
