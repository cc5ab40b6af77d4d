"""The runner: one transaction per dataset, failures contained, payloads and run log kept."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

import harvesters
from opendata.exceptions import LockHeld
from opendata.harvest import HarvestLock, Runner
from opendata.store import queries
from opendata.store import schema as t
from opendata.store.runs import load_payloads
from tests import fakes


@pytest.fixture(autouse=True)
def fake_source(monkeypatch):
    monkeypatch.setitem(harvesters.HARVESTERS, "fake", "tests.fakes:FakeHarvester")
    monkeypatch.setattr(fakes.FakeHarvester, "next_result", None)
    monkeypatch.setattr(fakes.FakeHarvester, "fail_fetch", False)
    monkeypatch.setattr(fakes.FakeHarvester, "fail_parse", False)


def _snapshot(engine) -> dict:
    """Everything a failed harvest must leave as it was."""
    with engine.connect() as conn:
        return {
            table.name: sorted(map(tuple, conn.execute(select(table))), key=repr)
            for table in (
                t.dataset,
                t.indicator,
                t.dimension,
                t.dimension_value,
                t.series,
                t.observation,
                t.region,
            )
        }


def _count(engine, table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar()


def test_a_harvest_writes_data_payloads_and_a_run_row(engine, settings):
    fakes.FakeHarvester.next_result = fakes.result({("6371", "2024", "1"): "4.02"})
    [outcome] = Runner(engine, settings).run([fakes.spec()])
    assert outcome.status == "ok" and outcome.counts.added == 1
    with engine.connect() as conn:
        run = conn.execute(select(t.harvest_run)).one()
        assert (run.status, run.added, run.dataset_id) == ("ok", 1, "demo")
        assert run.finished_at is not None
        fetch = conn.execute(select(t.fetch)).one()
        assert fetch.url.endswith("key=***")
        [payload] = load_payloads(conn, run.id)
    assert payload.body.startswith(b'{"dataset": "demo"')
    assert payload.params == {"dataset": "demo"}


@pytest.mark.parametrize("failure", ["fail_fetch", "fail_parse"])
def test_a_failed_dataset_leaves_the_store_as_it_was(engine, settings, failure):
    fakes.FakeHarvester.next_result = fakes.result({("6371", "2024", "1"): "4.02"})
    Runner(engine, settings).run([fakes.spec()])
    before = _snapshot(engine)
    fakes.FakeHarvester.next_result = fakes.result({("6371", "2024", "1"): "9.99"})
    setattr(fakes.FakeHarvester, failure, True)
    outcomes = Runner(engine, settings).run([fakes.spec(), fakes.spec("other")])
    assert [o.status for o in outcomes] == ["failed", "failed"]
    assert "fake" in outcomes[0].error
    assert _snapshot(engine) == before
    with engine.connect() as conn:
        runs = conn.execute(select(t.harvest_run).order_by(t.harvest_run.c.id)).all()
    assert [r.status for r in runs] == ["ok", "failed", "failed"]
    assert runs[-1].error and runs[-1].finished_at
    assert _count(engine, t.fetch) == 3  # the failed runs' payloads are kept


def test_a_failure_in_the_write_rolls_back_the_whole_dataset(engine, settings):
    fakes.FakeHarvester.next_result = fakes.result({("6371", "2024", "1"): "4.02"})
    Runner(engine, settings).run([fakes.spec()])
    before = _snapshot(engine)
    broken = fakes.result({("6372", "2024", "1"): "1", ("0101", "2024", "1"): "2"})
    broken.indicators[0].name = "A new name that must not land"
    fakes.FakeHarvester.next_result = broken
    [outcome] = Runner(engine, settings).run([fakes.spec()])
    assert outcome.status == "failed" and "0101" in outcome.error
    assert _snapshot(engine) == before


def test_other_datasets_go_on_after_a_failure(engine, settings, monkeypatch):
    calls = []

    def parse(self, spec, payloads, regions):
        calls.append(spec.id)
        if spec.id == "broken":
            raise harvesters.exceptions.ParseError("ambiguous key")
        return fakes.result({("6371", "2024", "1"): "1"})

    monkeypatch.setattr(fakes.FakeHarvester, "parse", parse)
    outcomes = Runner(engine, settings).run([fakes.spec("broken"), fakes.spec("good")])
    assert [(o.dataset_id, o.status) for o in outcomes] == [("broken", "failed"), ("good", "ok")]
    assert calls == ["broken", "good"]


def test_no_data_keeps_served_values(engine, settings):
    fakes.FakeHarvester.next_result = fakes.result({("6371", "2024", "1"): "4.02"})
    Runner(engine, settings).run([fakes.spec()])
    with engine.connect() as conn:
        version = queries.data_version(conn)
    fakes.FakeHarvester.next_result = None  # the fake answers "no data"
    [outcome] = Runner(engine, settings).run([fakes.spec()])
    assert outcome.status == "no-data"
    assert _count(engine, t.observation) == 1
    with engine.connect() as conn:
        assert queries.data_version(conn) == version


def test_a_second_harvest_waits_for_the_lock(engine, settings):
    with HarvestLock(engine):
        with pytest.raises(LockHeld, match="another harvest"):
            Runner(engine, settings).run([fakes.spec()])
        with pytest.raises(LockHeld):
            HarvestLock(engine, timeout=0.2, poll=0.05).acquire()
    fakes.FakeHarvester.next_result = fakes.result({("6371", "2024", "1"): "1"})
    assert Runner(engine, settings).run([fakes.spec()])[0].status == "ok"


def test_a_reharvest_of_identical_payloads_is_recorded_without_parsing(
    engine, settings, monkeypatch
):
    fakes.FakeHarvester.next_result = fakes.result({("6371", "2024", "1"): "4.02"})
    Runner(engine, settings).run([fakes.spec()])
    parsed = []
    original = fakes.FakeHarvester.parse
    monkeypatch.setattr(fakes.FakeHarvester, "parse", lambda *a: parsed.append(1) or original(*a))
    [outcome] = Runner(engine, settings).run([fakes.spec()])
    assert (outcome.status, outcome.counts.unchanged, parsed) == ("unchanged", 1, [])
    [forced] = Runner(engine, settings, force=True).run([fakes.spec()])
    assert (forced.status, forced.counts.unchanged, parsed) == ("ok", 1, [1])
    with engine.connect() as conn:
        runs = conn.execute(select(t.harvest_run).order_by(t.harvest_run.c.id)).all()
        last_run_id = conn.execute(select(t.dataset.c.last_run_id)).scalar()
    assert [r.status for r in runs] == ["ok", "unchanged", "ok"]
    assert last_run_id == runs[-1].id
    assert (_count(engine, t.fetch), _count(engine, t.raw_payload)) == (3, 1)  # kept once


def test_regions_another_harvest_added_make_the_next_run_parse_again(engine, settings):
    from opendata.model import Region

    fakes.FakeHarvester.next_result = fakes.result({("6371", "2024", "1"): "1"})
    Runner(engine, settings).run([fakes.spec("a")])
    other = fakes.result({("6399", "2024", "1"): "2"})
    other.regions.append(Region("6399", "Kabupaten Baru", "regency", "6300"))
    fakes.FakeHarvester.next_result = other
    Runner(engine, settings).run([fakes.spec("b")])
    fakes.FakeHarvester.next_result = fakes.result({("6371", "2024", "1"): "1"})
    [again] = Runner(engine, settings).run([fakes.spec("a")])
    # the same payload, but the regions parse resolves rows against have changed
    assert again.status == "ok"


def test_runs_left_running_by_a_killed_process_are_marked_interrupted(engine, settings):
    from opendata.store.runs import start_run

    with engine.begin() as conn:  # what a harvest killed with SIGKILL leaves behind
        orphan = start_run(conn, "dead-batch", "demo", offline=False)
    fakes.FakeHarvester.next_result = fakes.result({("6371", "2024", "1"): "1"})
    [outcome] = Runner(engine, settings).run([fakes.spec()])
    assert outcome.status == "ok"
    with engine.connect() as conn:
        run = conn.execute(select(t.harvest_run).where(t.harvest_run.c.id == orphan)).one()
    assert run.status == "interrupted" and run.finished_at is not None
    assert run.error.startswith("interrupted: the harvest process ended")


def test_a_run_stopped_by_sigterm_is_recorded_and_releases_the_lock(engine, settings, monkeypatch):
    def terminated(self, spec, keep):
        raise SystemExit(143)  # what the CLI's SIGTERM handler raises

    fetch = fakes.FakeHarvester.fetch
    monkeypatch.setattr(fakes.FakeHarvester, "fetch", terminated)
    with pytest.raises(SystemExit):
        Runner(engine, settings).run([fakes.spec()])
    with engine.connect() as conn:
        run = conn.execute(select(t.harvest_run)).one()
    assert run.status == "interrupted" and "SystemExit" in run.error
    monkeypatch.setattr(fakes.FakeHarvester, "fetch", fetch)
    fakes.FakeHarvester.next_result = fakes.result({("6371", "2024", "1"): "1"})
    assert Runner(engine, settings).run([fakes.spec()])[0].status == "ok"
