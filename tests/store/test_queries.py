"""Read queries: keyset pages hold exactly the rows after their cursor, and seek to it."""

from __future__ import annotations

import pytest

from opendata.store import queries
from opendata.store.queries import ObservationQuery
from opendata.store.runs import finish_run, start_run
from opendata.store.writer import write_dataset
from tests import fakes

#: several series a region (sex 1, 2, 3), periods that start on the same day (2024-01,
#: 2024-Q1, 2024-S1, 2024), regions before and after each other
CELLS = {
    (region, period, sex): f"{n}.{sex}"
    for n, region in enumerate(("6300", "6371", "6372"))
    for period in ("2023", "2024", "2024-S1", "2024-Q1", "2024-01", "2024-02", "2024-Q2")
    for sex in ("1", "2", "3")
    if not (region == "6372" and sex == "2")
}


@pytest.fixture
def store(engine):
    with engine.begin() as conn:
        run_id = start_run(conn, "batch", "demo", offline=True)
        counts = write_dataset(
            conn, fakes.spec(), "Fake source", fakes.result(CELLS), run_id, {"6300", "6371", "6372"}
        )
        finish_run(conn, run_id, "ok", counts)
    return engine


def test_every_page_holds_exactly_the_rows_after_its_cursor(store):
    with store.connect() as conn:
        everything = list(queries.iter_observations(conn, ObservationQuery("demo")))
        assert len(everything) == len(CELLS)
        for position, row in enumerate(everything):
            for limit in (1, 4):
                query = ObservationQuery("demo", after=queries.keyset(row), limit=limit)
                page = list(queries.iter_observations(conn, query))
                assert page == everything[position + 1 : position + 1 + limit], (position, limit)


def test_walking_filtered_pages_gives_the_unpaged_rows(store):
    wanted = {"regions": ["6371", "6372"], "dimensions": {"jenis_kelamin": ["1", "3"]}}
    with store.connect() as conn:
        everything = list(queries.iter_observations(conn, ObservationQuery("demo", **wanted)))
        paged, after = [], None
        while True:
            query = ObservationQuery("demo", after=after, limit=2, **wanted)
            page = list(queries.iter_observations(conn, query))
            if not page:
                break
            paged += page
            after = queries.keyset(page[-1])
    assert paged == everything and len(everything) == 7 * 2 + 7 * 2


def _plan(conn, query: ObservationQuery) -> str:
    stmt = queries._observation_select(query)
    sql = str(stmt.compile(conn, compile_kwargs={"literal_binds": True}))
    if conn.dialect.name == "sqlite":
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
        return "\n".join(row[-1] for row in rows)
    cursor = conn.connection.dbapi_connection.cursor()  # a client-side one, for SET and EXPLAIN
    cursor.execute("SET LOCAL enable_seqscan = off")  # tiny tables: plan as if they were big
    cursor.execute(f"EXPLAIN {sql}")
    return "\n".join(row[0] for row in cursor.fetchall())


def test_a_deep_page_seeks_to_its_cursor_in_the_series_index(store):
    """The keyset is an index range on both stores (no timing: the plan says it)."""
    with store.connect() as conn:
        rows = list(queries.iter_observations(conn, ObservationQuery("demo")))
        deep = ObservationQuery("demo", after=queries.keyset(rows[-5]), limit=3)
        plan = _plan(conn, deep)
        conn.rollback()  # SET LOCAL ends with the transaction
    if store.dialect.name == "sqlite":
        assert "ix_series_dataset_region_id (dataset_id=? AND region_code>?)" in plan, plan
    else:
        lines = [line for line in plan.splitlines() if "Index Cond" in line]
        assert any("region_code" in line and ">=" in line for line in lines), plan
