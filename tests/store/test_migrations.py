"""Migrations carry a store's data forward: a store of 0001 keeps its series after 0002."""

from __future__ import annotations

from datetime import date, datetime

from alembic import command
from sqlalchemy import select, text

from opendata.store import make_engine, upgrade
from opendata.store import schema as t
from opendata.store.engine import alembic_config
from opendata.store.runs import start_run
from opendata.store.writer import write_dataset
from tests import fakes

ROWS_0001 = [
    "INSERT INTO source (id, title) VALUES ('fake', 'Fake')",
    "INSERT INTO dataset (id, source_id, title_id, query) VALUES ('demo', 'fake', 'Demo', '{}')",
    "INSERT INTO indicator (id, dataset_id, code, name, unit) "
    "VALUES (1, 'demo', '1', 'Penduduk', 'Jiwa')",
    "INSERT INTO dimension (id, dataset_id, slug, label, position) "
    "VALUES (1, 'demo', 'jenis_kelamin', 'Jenis Kelamin', 0)",
    "INSERT INTO dimension_value (id, dimension_id, code, label, is_total, position) VALUES "
    "(11, 1, '1', 'Laki-laki', false, 0), (12, 1, '2', 'Perempuan', false, 1), "
    "(13, 1, '3', 'Jumlah', true, 2)",
    "INSERT INTO series (id, dataset_id, indicator_id, region_code, dims_key) "
    "VALUES (5, 'demo', 1, '6371', 'jenis_kelamin=2')",
    "INSERT INTO series_dimension (series_id, dimension_id, value_id) VALUES (5, 1, 12)",
    "INSERT INTO harvest_run (id, batch, dataset_id, started_at, status, offline, added, "
    "changed, unchanged) VALUES (1000, 'b', 'demo', :now, 'ok', false, 1, 0, 0)",
    "INSERT INTO observation (series_id, period, period_start, period_end, value_text, "
    "value_num, first_seen_run_id, last_changed_run_id) "
    "VALUES (5, '2024', :start, :end, '7.10', 7.1, 1000, 1000)",
]


def test_a_store_of_0001_keeps_its_series_and_figures(store_url):
    engine = make_engine(store_url)
    with engine.begin() as conn:  # the test store is at head: take it back to 0001
        conn.execute(t.store_meta.delete())
    command.downgrade(alembic_config(engine), "0001")
    params = {"now": datetime(2026, 11, 30), "start": date(2024, 1, 1), "end": date(2024, 12, 31)}
    with engine.begin() as conn:
        for sql in ROWS_0001:
            conn.execute(text(sql), params)
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(select(t.series.c.dims_key)).scalar() == "12"
        token = conn.execute(
            select(t.store_meta.c.value).where(t.store_meta.c.key == "data_token")
        ).scalar()
    assert token
    with engine.begin() as conn:  # the same figure harvested again: the same series
        run_id = start_run(conn, "b2", "demo", offline=True)
        known = set(conn.execute(select(t.region.c.code)).scalars())
        result = fakes.result({("6371", "2024", "2"): "7.10"})
        counts = write_dataset(conn, fakes.spec(), "Fake", result, run_id, known)
    assert (counts.added, counts.changed, counts.unchanged) == (0, 0, 1)
    engine.dispose()


def test_0002_goes_down_and_up_again_on_a_harvested_store(engine):
    from opendata.store.runs import finish_run, save_payload
    from opendata.store.writer import write_dataset as write

    with engine.begin() as conn:  # a harvest: rows in fetch reference harvest_run
        run_id = start_run(conn, "b", "demo", offline=True)
        known = set(conn.execute(select(t.region.c.code)).scalars())
        counts = write(
            conn, fakes.spec(), "Fake", fakes.result({("6371", "2024", "2"): "1"}), run_id, known
        )
        save_payload(conn, run_id, fakes_payload())
        finish_run(conn, run_id, "ok", counts)
    command.downgrade(alembic_config(engine), "0001")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT dims_key FROM series")).scalar() == "jenis_kelamin=2"
    upgrade(engine)
    with engine.connect() as conn:
        value_id = conn.execute(select(t.series_dimension.c.value_id)).scalar()
        assert conn.execute(select(t.series.c.dims_key)).scalar() == str(value_id)


def fakes_payload():
    from datetime import UTC

    from opendata.model import Payload

    return Payload("https://x.invalid/", b"{}", 200, "application/json", datetime.now(UTC))


def test_0003_goes_down_and_up_again_on_a_harvested_store(engine):
    from opendata.store.writer import write_dataset as write

    with engine.begin() as conn:
        run_id = start_run(conn, "b", "demo", offline=True)
        known = set(conn.execute(select(t.region.c.code)).scalars())
        write(conn, fakes.spec(), "Fake", fakes.result({("6371", "2024", "2"): "1"}), run_id, known)
    command.downgrade(alembic_config(engine), "0002")
    with engine.connect() as conn:
        columns = conn.execute(text("SELECT * FROM observation")).keys()
        assert "value_to_text" not in columns
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.execute(select(t.observation.c.value_text)).scalar() == "1"
        assert conn.execute(select(t.dataset.c.target)).scalar() is None
