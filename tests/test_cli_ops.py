# ruff: noqa: F811 - the fixtures of tests/test_cli.py are imported by name, then requested
"""The commands an operator's cron runs: status, harvest --due, --dry-run, JSON logs."""

from __future__ import annotations

import csv
import io
import json
import logging

from sqlalchemy import func, select

from opendata.store import make_engine
from opendata.store import schema as t
from tests import fakes
from tests.test_cli import catalog_dir, invoke  # noqa: F401 - the fixtures of the command line

LATER = "2030-01-10T03:00:00Z"  # a week and more after any run of the test


def _runs(store_url) -> int:
    engine = make_engine(store_url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(t.harvest_run)).scalar()
    finally:
        engine.dispose()


def _status(invoke, *args) -> dict[str, dict]:
    result = invoke("status", "--json", *args)
    assert result.exit_code == 0, result.output
    return {row["dataset"]: row for row in json.loads(result.stdout)}


def test_harvest_due_harvests_what_is_due_and_status_says_when_next(invoke, store_url):
    assert {d: r["state"] for d, r in _status(invoke).items()} == {
        "demo": "never",
        "other": "never",
    }
    assert invoke("harvest", "--due").exit_code == 0
    assert _runs(store_url) == 2
    status = _status(invoke)
    assert {r["state"] for r in status.values()} == {"fresh"}
    assert status["demo"]["check_every"] == "1w" and status["demo"]["next_due"].endswith("Z")
    again = invoke("harvest", "--due")  # cron an hour later: nothing is due, nothing runs
    assert again.exit_code == 0 and "nothing is due" in again.output
    assert _runs(store_url) == 2
    assert invoke("harvest", "--due", "--now", LATER, "demo").exit_code == 0
    assert _runs(store_url) == 3
    later = _status(invoke, "--now", LATER)
    assert later["other"]["state"] == "overdue" and later["other"]["stale"] is True


def test_failing_datasets_come_first_and_can_fail_a_monitoring_check(invoke, monkeypatch):
    assert invoke("harvest", "--all").exit_code == 0
    monkeypatch.setattr(fakes.FakeHarvester, "fail_fetch", True)  # the source is down
    for _ in range(3):
        assert invoke("harvest", "other").exit_code == 1
    table = invoke("status")
    assert table.exit_code == 0
    lines = table.stdout.splitlines()
    assert lines[0].split()[:2] == ["dataset", "state"]
    assert lines[1].split()[:2] == ["other", "failing"] and "UpstreamError" in lines[1]
    assert lines[2].split()[:2] == ["demo", "fresh"]
    assert invoke("status", "--fail-if-stale").exit_code == 1
    assert invoke("status", "--fail-if-stale", "demo").exit_code == 0
    assert _status(invoke)["other"]["failures_in_a_row"] == 3


def test_a_dry_run_says_what_would_change_and_writes_nothing(invoke, store_url, monkeypatch):
    assert invoke("harvest", "--all").exit_code == 0
    before = invoke("export", "demo").stdout
    runs = _runs(store_url)
    cells = {("6371", "2024", "1"): "4.03", ("6371", "2024", "2"): "-0.47"}
    cells[("6372", "2025", "1")] = "8"
    monkeypatch.setattr(fakes.FakeHarvester, "next_result", fakes.result(cells))
    result = invoke("harvest", "demo", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "dry run, nothing written: harvested 1 of 1 datasets" in result.output
    assert invoke("export", "demo").stdout == before
    assert _runs(store_url) == runs
    assert _status(invoke)["demo"]["state"] == "fresh"
    assert invoke("harvest", "demo").exit_code == 0  # the next run's id follows on, no gap
    run, _ = _run_log(store_url, runs + 1)
    assert (run.dataset_id, run.status) == ("demo", "ok")


def test_a_dry_run_reports_the_counts(invoke, monkeypatch, caplog):
    caplog.set_level(logging.INFO, logger="opendata")
    assert invoke("harvest", "--all").exit_code == 0
    cells = {("6371", "2024", "1"): "4.03", ("6371", "2024", "2"): "-0.47"}
    cells[("6372", "2025", "1")] = "8"
    monkeypatch.setattr(fakes.FakeHarvester, "next_result", fakes.result(cells))
    assert invoke("harvest", "demo", "--dry-run").exit_code == 0
    # 4.02 -> 4.03 changes, 2025 is new; the 2024-Q1 and 2023 cells are in periods this
    # harvest did not publish, so they stay (not withdrawn)
    assert "demo: dry run, ok: would add 1, change 1, withdraw 0 (1 unchanged)" in caplog.text


def test_log_lines_are_json_objects_with_the_outcome(invoke, caplog):
    caplog.set_level(logging.INFO, logger="opendata")
    result = invoke("--log-format", "json", "harvest", "demo")
    assert result.exit_code == 0
    records = [json.loads(line) for line in caplog.text.splitlines() if line.startswith("{")]
    outcome = next(r for r in records if r.get("dataset") == "demo" and "status" in r)
    assert outcome["level"] == "INFO" and outcome["status"] == "ok"
    assert outcome["added"] == 4 and outcome["run_id"] >= 1 and outcome["time"].endswith("+00:00")
    summary = next(r for r in records if r["message"].startswith("harvested "))
    assert summary["message"] == "harvested 1 of 1 datasets"
    assert "harvested 1 of 1" not in result.stderr  # every line of stderr is a JSON object
    assert invoke("harvest", "demo", "--log-format", "xml").exit_code == 2


def _run_log(store_url, run_id: int):
    engine = make_engine(store_url)
    try:
        with engine.connect() as conn:
            run = conn.execute(select(t.harvest_run).where(t.harvest_run.c.id == run_id)).one()
            fetched = conn.execute(
                select(t.raw_payload.c.sha256)
                .join(t.fetch, t.fetch.c.payload_id == t.raw_payload.c.id)
                .where(t.fetch.c.run_id == run_id)
            ).scalars()
            return run, list(fetched)
    finally:
        engine.dispose()


def test_reparse_rebuilds_from_stored_payloads_as_revisions_offline(invoke, store_url, monkeypatch):
    assert invoke("harvest", "demo").exit_code == 0
    _, first_payloads = _run_log(store_url, 1)
    # a parser fix: the same stored body now reads 4.02 as 4.020 (the fake's parse returns this)
    fixed = fakes.result({("6371", "2024", "1"): "4.020", ("6371", "2024", "2"): "-0.47"})
    monkeypatch.setattr(fakes.FakeHarvester, "next_result", fixed)
    monkeypatch.setattr(fakes.FakeHarvester, "fail_fetch", True)  # the source is down: no matter
    result = invoke("reparse", "demo")
    assert result.exit_code == 0, result.output
    assert "reparsed 1 of 1 datasets" in result.output
    run, payloads = _run_log(store_url, 2)
    assert (run.status, run.offline, run.changed, run.unchanged) == ("ok", True, 1, 1)
    assert run.log.splitlines()[0] == "reparsed the 1 stored payload(s) of run #1, offline"
    assert payloads == first_payloads  # the values trace to the very body they came from
    rows = list(csv.DictReader(io.StringIO(invoke("export", "demo").stdout)))
    assert [r["value"] for r in rows if r["region_code"] == "6371"] == ["4.020", "-0.47"]


def test_a_reparse_is_no_check_of_the_source(invoke, monkeypatch):
    assert invoke("harvest", "--all").exit_code == 0
    monkeypatch.setattr(fakes.FakeHarvester, "fail_fetch", True)
    for _ in range(3):
        assert invoke("harvest", "demo").exit_code == 1
    assert invoke("reparse", "demo").exit_code == 0
    status = _status(invoke)["demo"]
    assert (status["state"], status["failures_in_a_row"]) == ("failing", 3)
    assert invoke("status", "--fail-if-stale").exit_code == 1
    later = _status(invoke, "--now", LATER)["other"]
    assert later["due"] is True
    assert invoke("reparse", "other").exit_code == 0  # nor does it make a due dataset fresh
    assert _status(invoke, "--now", LATER)["other"]["due"] is True


def test_reparse_without_stored_payloads_fails_saying_why(invoke):
    result = invoke("reparse", "other")
    assert result.exit_code == 1
    assert "reparsed 0 of 1 datasets" in result.output
    assert "no stored payloads to parse: harvest the dataset first" in invoke("runs").stdout


def test_a_target_set_whose_better_names_a_dimension_it_lacks_fails_its_harvest(
    invoke, catalog_dir
):
    (catalog_dir / "tgt.yaml").write_text(
        "id: tgt\ntitle: Targets\nsource: fake\nfake: {n: 1}\n"
        "target: {of: demo, better: {by: indikator, lower: ['1']}}\n",
        encoding="utf-8",
    )
    result = invoke("harvest", "tgt")
    assert result.exit_code == 2
    assert "target.better.by names the dimension 'indikator'" in result.output
    assert "(its dimensions: jenis_kelamin)" in result.output
