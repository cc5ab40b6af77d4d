"""Shared fixtures: settings, and a migrated store per test on SQLite and on PostgreSQL.

PostgreSQL runs when ``OPENDATA_TEST_POSTGRES_URL`` names a server (``.ci/run`` sets it): the
suite makes a database of its own there and empties it between tests. Without it those tests
skip with the reason shown; with ``CI`` set, an unreachable PostgreSQL fails the run instead.
"""

from __future__ import annotations

import os
import shutil
import uuid

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from opendata.config import load_settings
from opendata.regions import RegionIndex
from opendata.store import make_engine, upgrade
from opendata.store.schema import metadata
from opendata.store.writer import sync_regions

POSTGRES_ENV = "OPENDATA_TEST_POSTGRES_URL"
STORES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


REDIS_ENV = "OPENDATA_TEST_REDIS_URL"


@pytest.fixture
def redis_url():
    """An emptied Redis database for a test (db 14 of 127.0.0.1:6379 unless
    ``OPENDATA_TEST_REDIS_URL`` names one), emptied again after it. Without Redis the test
    skips, saying why; with ``CI`` set it fails (``.ci/run`` starts Redis)."""
    import redis

    url = os.environ.get(REDIS_ENV, "redis://127.0.0.1:6379/14")
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    except redis.exceptions.ConnectionError:
        client.close()
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but there is no Redis at {url}")
        pytest.skip(f"no Redis at {url}")
    yield url
    client.flushdb()
    client.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated SQLite store with the region reference, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "store.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.begin() as conn:
        sync_regions(conn, RegionIndex.reference())
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_server_url():
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {POSTGRES_ENV} is not: the PostgreSQL tests must run")
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql+psycopg:///test)")
    engine = make_engine(url, isolation_level="AUTOCOMMIT")
    name = f"opendata_test_{uuid.uuid4().hex[:10]}"
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {POSTGRES_ENV} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL at {POSTGRES_ENV} is unreachable: {exc}")
    test_url = make_url(url).set(database=name).render_as_string(hide_password=False)
    test_engine = make_engine(test_url)
    upgrade(test_engine)
    test_engine.dispose()
    yield test_url
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def _empty_postgres(engine) -> None:
    names = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        sync_regions(conn, RegionIndex.reference())


@pytest.fixture(params=STORES)
def store_url(request, tmp_path):
    """The URL of an empty, migrated store (regions loaded) on each store kind."""
    if request.param == "sqlite":
        path = tmp_path / "store.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("postgres_server_url")
    engine = make_engine(url)
    _empty_postgres(engine)
    engine.dispose()
    yield url


@pytest.fixture
def engine(store_url):
    engine = make_engine(store_url)
    yield engine
    engine.dispose()


@pytest.fixture
def settings(store_url, tmp_path):
    """Settings for a test: its own store, no key, no waiting."""
    return load_settings(
        environ={},
        overrides={
            "DATABASE_URL": store_url,
            "BPS_API_KEY": "test-key-123",
            "BPS_BASE_URL": "https://bps.invalid/v1/api",
        },
    )
