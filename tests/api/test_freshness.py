"""A dataset's freshness in the API: when it was checked and changed, when due, whether stale."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from opendata.api import context
from opendata.store import schema as t
from opendata.store.runs import finish_run, start_run


def _finished(engine) -> datetime:
    with engine.connect() as conn:
        return conn.execute(select(t.harvest_run.c.finished_at)).scalar()


def test_a_dataset_says_when_it_was_checked_and_when_it_is_due(client, engine):
    body = client.get("/api/v1/datasets/demo").get_json()
    fresh = body["freshness"]
    finished = _finished(engine).replace(microsecond=0)
    assert fresh["state"] == "fresh" and fresh["stale"] is False and fresh["due"] is False
    assert fresh["check_every"] == "1w"  # the catalog sets no schedule nor frequency
    assert fresh["last_checked"] == fresh["last_changed"] == finished.isoformat() + "Z"
    assert fresh["next_due"] == (finished + timedelta(weeks=1)).isoformat() + "Z"
    listed = client.get("/api/v1/datasets").get_json()["data"]
    assert [d["freshness"]["state"] for d in listed] == ["fresh"]


def test_the_answer_and_its_etag_follow_the_clock(client, engine, monkeypatch):
    before = client.get("/api/v1/datasets/demo")
    later = _finished(engine) + timedelta(days=15)  # past due, and a whole interval more
    monkeypatch.setattr(context, "utcnow", lambda: later)
    after = client.get("/api/v1/datasets/demo", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200  # not a 304 of the cached "fresh" answer
    assert after.get_json()["freshness"]["state"] == "overdue"
    assert after.get_json()["freshness"]["stale"] is True
    assert after.headers["ETag"] != before.headers["ETag"]


def test_failing_harvests_make_it_stale(client, engine):
    with engine.begin() as conn:
        for _ in range(3):
            run_id = start_run(conn, "b", "demo", offline=False)
            finish_run(conn, run_id, "failed", error="UpstreamError: 503 five times")
    fresh = client.get("/api/v1/datasets/demo").get_json()["freshness"]
    assert (fresh["state"], fresh["stale"], fresh["failures_in_a_row"]) == ("failing", True, 3)
    assert fresh["last_error"] == "UpstreamError: 503 five times"
    with engine.begin() as conn:  # a check that reaches the source again ends the streak
        conn.execute(update(t.harvest_run).values(status="unchanged"))
    assert client.get("/api/v1/datasets/demo").get_json()["freshness"]["state"] == "fresh"
