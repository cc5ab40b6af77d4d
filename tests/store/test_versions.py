"""The data version: every commit that changes data gets its own, and a restore cannot fake one."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from opendata.store import queries
from opendata.store import schema as t
from opendata.store.writer import bump_data_version


@pytest.mark.postgres
@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_two_transactions_never_share_a_data_version(engine):
    with engine.connect() as conn:
        start = queries.data_version(conn)
    got: list[int] = []
    first = engine.connect()
    first.begin()
    got.append(bump_data_version(first))  # not committed yet

    def second() -> None:
        with engine.begin() as conn:
            got.append(bump_data_version(conn))  # waits for the first's row lock

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(0.5)
    first.commit()
    first.close()
    thread.join(10)
    assert sorted(got) == [start + 1, start + 2]
    with engine.connect() as conn:
        assert queries.data_version(conn) == start + 2


def test_every_version_has_a_token_of_its_own(engine):
    states = []
    for _ in range(3):
        with engine.begin() as conn:
            bump_data_version(conn)
        with engine.connect() as conn:
            states.append(queries.data_state(conn))
    assert len(set(states)) == 3
    assert [int(s.split(".")[0]) for s in states] == sorted(int(s.split(".")[0]) for s in states)


def test_a_new_store_has_a_token(engine):
    with engine.connect() as conn:
        token = conn.execute(
            select(t.store_meta.c.value).where(t.store_meta.c.key == "data_token")
        ).scalar()
    assert token and len(token) == 32
