"""/readyz: store reachable, catalog loaded, schema current, harvests not failing too long."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from opendata.api import health
from opendata.api.context import utcnow
from opendata.store.runs import finish_run, start_run
from opendata.store.schema import SCHEMA_REVISION


def _fail(engine, dataset_id: str = "demo", error: str = "HTTPError: 503 from BPS") -> None:
    with engine.begin() as conn:
        run_id = start_run(conn, "batch", dataset_id, offline=False)
        finish_run(conn, run_id, "failed", error=error)


def test_ready(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["schema"] == {
        "current": True,
        "revision": SCHEMA_REVISION,
        "expected": SCHEMA_REVISION,
    }
    assert body["harvests"] == {
        "ok": True,
        "datasets": 1,
        "max_failing_hours": None,
        "failing": [],
    }
    assert body["store"]["reachable"] and body["catalog"]["loaded"]


def test_a_store_with_no_harvested_dataset_is_ready(engine, make_app):
    response = make_app().test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["harvests"]["datasets"] == 0


@pytest.fixture
def old_schema(store):
    """The store's schema recorded as an older revision (put back after: a PostgreSQL test
    database is emptied between tests, not migrated again)."""
    with store.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    yield store
    with store.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": SCHEMA_REVISION})


def test_a_store_behind_the_code_is_not_ready(old_schema, make_app):
    response = make_app().test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["checks"]["schema"] == {
        "current": False,
        "revision": "0001",
        "expected": SCHEMA_REVISION,
    }
    assert "schema" in problem["detail"]
    # alive all the same: it serves what it can
    assert make_app().test_client().get("/healthz").status_code == 200


def test_failing_harvests_are_listed_but_do_not_unready_by_default(store, client):
    _fail(store)
    _fail(store)
    response = client.get("/readyz")
    assert response.status_code == 200
    harvests = response.get_json()["harvests"]
    assert harvests["ok"] is True
    [failing] = harvests["failing"]
    assert failing["dataset"] == "demo"
    assert failing["failures_in_a_row"] == 2
    assert failing["last_error"] == "HTTPError: 503 from BPS"
    assert failing["last_checked"].endswith("Z")


def test_failing_longer_than_the_threshold_is_not_ready(store, make_app, monkeypatch):
    client = make_app(READY_MAX_FAILING_HOURS=24).test_client()
    _fail(store)
    assert client.get("/readyz").status_code == 200  # failing, but checked less than 24 h ago
    later = utcnow() + timedelta(hours=25)
    monkeypatch.setattr(health, "utcnow", lambda: later)
    response = client.get("/readyz")
    assert response.status_code == 503
    problem = response.get_json()
    assert problem["checks"]["harvests"]["ok"] is False
    assert problem["checks"]["harvests"]["max_failing_hours"] == 24
    assert "harvests" in problem["detail"]


def test_a_check_that_succeeded_again_is_ready(store, make_app, monkeypatch):
    client = make_app(READY_MAX_FAILING_HOURS=1).test_client()
    _fail(store)
    with store.begin() as conn:
        finish_run(conn, start_run(conn, "batch", "demo", offline=False), "unchanged")
    monkeypatch.setattr(health, "utcnow", lambda: utcnow() + timedelta(hours=2))
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json()["harvests"]["failing"] == []


def test_a_store_that_is_not_there_is_not_ready(make_app, tmp_path):
    client = make_app(DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}").test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["store"]["reachable"] is False
    assert checks["schema"]["current"] is False
    assert checks["harvests"]["ok"] is False
