"""The command line as operators and cron use it: exit codes, messages, CSV export."""

from __future__ import annotations

import csv
import io
import textwrap

import pytest
from click.testing import CliRunner

import harvesters
from opendata.cli import cli
from opendata.harvest import HarvestLock
from opendata.store import make_engine
from tests import fakes


@pytest.fixture
def catalog_dir(tmp_path, monkeypatch):
    monkeypatch.setitem(harvesters.HARVESTERS, "fake", "tests.fakes:FakeHarvester")
    monkeypatch.setattr(fakes.FakeHarvester, "fail_parse", False)
    cells = {
        ("6371", "2024", "1"): "4.02",
        ("6371", "2024", "2"): "-0.47",
        ("6372", "2024-Q1", "1"): "7.10",
        ("6300", "2023", "3"): "683244",
    }
    monkeypatch.setattr(fakes.FakeHarvester, "next_result", fakes.result(cells))
    folder = tmp_path / "catalog"
    folder.mkdir()
    for dataset_id in ("demo", "other"):
        (folder / f"{dataset_id}.yaml").write_text(
            textwrap.dedent(
                f"""\
                id: {dataset_id}
                title: Demo {dataset_id}
                source: fake
                fake: {{n: 1}}
                """
            )
        )
    return folder


@pytest.fixture
def invoke(store_url, catalog_dir):
    env = {
        "OPENDATA_DATABASE_URL": store_url,
        "OPENDATA_CATALOG_DIR": str(catalog_dir),
        "OPENDATA_BPS_API_KEY": "",
    }

    def run(*args: str):
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    return run


def test_db_upgrade_is_safe_to_repeat(invoke):
    for _ in range(2):
        result = invoke("db", "upgrade")
        assert result.exit_code == 0, result.output
        assert "up to date" in result.output


def test_harvest_all_then_export(invoke):
    assert invoke("harvest", "--all").exit_code == 0
    result = invoke("export", "demo")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == [
        "dataset",
        "region_code",
        "region_name",
        "period",
        "jenis_kelamin_code",
        "jenis_kelamin",
        "value",
        "unit",
        "flag",
        "note",
    ]
    values = {(r[1], r[3], r[4]): r[6] for r in rows[1:]}
    assert values == {
        ("6300", "2023", "3"): "683244",
        ("6371", "2024", "1"): "4.02",
        ("6371", "2024", "2"): "-0.47",
        ("6372", "2024-Q1", "1"): "7.10",
    }
    assert b"\r\n" in result.stdout_bytes and not result.stdout_bytes.startswith(b"\xef\xbb\xbf")


def test_export_filters_accept_any_code_system(invoke):
    invoke("harvest", "demo")
    result = invoke("export", "demo", "--region", "63.71", "--from", "2024", "--to", "2024")
    rows = list(csv.reader(io.StringIO(result.stdout)))[1:]
    assert {(r[1], r[2]) for r in rows} == {("6371", "Kota Banjarmasin")}
    result = invoke("export", "demo", "--dim", "jenis_kelamin=3")
    assert [r[1] for r in list(csv.reader(io.StringIO(result.stdout)))[1:]] == ["6300"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("export", "nope"), "no dataset 'nope'"),
        (("export", "demo", "--region", "9999999"), "no region has the code"),
        (("export", "demo", "--from", "2024-13"), "is not a period"),
        (("export", "demo", "--from", "2025", "--to", "2024"), "starts after"),
        (("export", "demo", "--dim", "sex=1"), "no dimension 'sex'"),
        (("export", "demo", "--dim", "jenis_kelamin=9"), "unknown value(s) 9"),
        (("export", "demo", "--region", ""), "--region: empty; give region codes"),
        (("export", "demo", "--region", "6371,"), "--region: empty; give region codes"),
        (("export", "demo", "--region", " , "), "or leave --region out"),
        (("export", "demo", "--from", ""), "--from: empty; give a period"),
        (("export", "demo", "--to", " "), "or leave --to out"),
        (("export", "demo", "--dim", "jenis_kelamin=1,"), "--dim jenis_kelamin: empty"),
        (("export", "demo", "--from", "\uff12\uff10\uff12\uff14"), "is not a period"),
        (("harvest",), "name the datasets to harvest"),
        (("harvest", "nope"), "not in the catalog: nope"),
    ],
)
def test_bad_input_exits_2_saying_what_to_change(invoke, args, message):
    invoke("harvest", "demo")
    result = invoke(*args)
    assert result.exit_code == 2
    assert message in result.output


def test_a_failed_dataset_exits_1_and_says_why(invoke, monkeypatch, caplog):
    monkeypatch.setattr(fakes.FakeHarvester, "fail_parse", True)
    result = invoke("harvest", "--all")
    assert result.exit_code == 1
    assert "harvested 0 of 2 datasets; failed: demo, other" in result.output
    assert "demo: FAILED: ParseError: the fake payload is ambiguous" in caplog.text


def test_a_missing_key_for_a_live_source_is_a_configuration_error(invoke, monkeypatch):
    from harvesters.exceptions import SourceConfigurationError

    def fetch(self, spec, keep):
        raise SourceConfigurationError("set OPENDATA_BPS_API_KEY")

    monkeypatch.setattr(fakes.FakeHarvester, "fetch", fetch)
    result = invoke("harvest", "demo")
    assert result.exit_code == 2
    assert "OPENDATA_BPS_API_KEY" in result.output


def test_a_held_lock_exits_75(invoke, store_url):
    engine = make_engine(store_url)
    with HarvestLock(engine):
        result = invoke("harvest", "--all")
    engine.dispose()
    assert result.exit_code == 75
    assert "another harvest" in result.output


def test_db_upgrade_waits_for_no_harvest(invoke, store_url):
    engine = make_engine(store_url)
    with HarvestLock(engine):
        result = invoke("db", "upgrade")
    engine.dispose()
    assert result.exit_code == 75
    assert "another harvest" in result.output


def test_runs_shows_interrupted_runs(invoke, store_url):
    from opendata.store.runs import start_run

    engine = make_engine(store_url)
    with engine.begin() as conn:
        start_run(conn, "killed", "demo", offline=False)
    engine.dispose()
    assert invoke("harvest", "other").exit_code == 0
    lines = invoke("runs", "--failed").output.splitlines()
    assert " demo interrupted " in lines[0]
    assert "interrupted: the harvest process ended" in lines[1]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OPENDATA_HTTP_RETRIES", "many"),
        ("OPENDATA_BPS_BASE_URL", "webapi.bps.go.id/v1/api"),
        ("OPENDATA_LOG_LEVEL", "LOUD"),
        ("OPENDATA_DATABASE_URL", "opendata.sqlite3"),
    ],
)
@pytest.mark.parametrize("command", [("harvest", "--all"), ("runs",), ("db", "upgrade")])
def test_an_invalid_setting_exits_2_in_one_line(tmp_path, catalog_dir, name, value, command):
    # refused before the store is opened: one store kind is enough
    env = {
        "OPENDATA_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        "OPENDATA_CATALOG_DIR": str(catalog_dir),
    }
    env[name] = value
    result = CliRunner().invoke(cli, list(command), env=env)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {name}={value!r} is not valid: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output


def test_a_page_size_over_the_largest_exits_2(tmp_path):
    env = {
        "OPENDATA_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}",
        "OPENDATA_PAGE_SIZE": "20000",
    }
    result = CliRunner().invoke(cli, ["runs"], env=env)
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: OPENDATA_PAGE_SIZE=20000 is larger than OPENDATA_MAX_PAGE_SIZE=10000: the "
        "default page size must be at most the largest one (set OPENDATA_PAGE_SIZE too)\n"
    )


def test_a_misspelt_variable_is_a_warning_on_stderr(invoke, monkeypatch):
    monkeypatch.setenv("OPENDATA_PAGESIZE", "5")
    result = invoke("runs")
    assert result.exit_code == 0
    assert (
        "Warning: OPENDATA_PAGESIZE is not a setting and is ignored; did you mean "
        "OPENDATA_PAGE_SIZE?\n"
    ) in result.stderr


def test_harvest_refuses_a_store_that_needs_an_upgrade(tmp_path, catalog_dir):
    env = {
        "OPENDATA_DATABASE_URL": f"sqlite:///{tmp_path / 'new.sqlite3'}",
        "OPENDATA_CATALOG_DIR": str(catalog_dir),
    }
    result = CliRunner().invoke(cli, ["harvest", "--all"], env=env)
    assert result.exit_code == 2
    assert "opendata db upgrade" in result.output


def test_runs_shows_the_run_log_with_errors(invoke, monkeypatch):
    invoke("harvest", "demo")
    monkeypatch.setattr(fakes.FakeHarvester, "fail_parse", True)
    monkeypatch.setattr(fakes.FakeHarvester, "next_result", fakes.result({}))
    invoke("harvest", "demo")
    result = invoke("runs")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert " demo failed " in lines[0] and "added=0" in lines[0]
    assert lines[1].strip() == "ParseError: the fake payload is ambiguous"
    assert " demo ok " in lines[2] and "added=4" in lines[2]
    failed = invoke("runs", "--failed", "--dataset", "demo").output.splitlines()
    assert len(failed) == 2 and " failed " in failed[0]


def test_export_warns_of_a_region_without_any_data_on_stderr(invoke):
    invoke("harvest", "demo")
    result = invoke("export", "demo", "--region", "6371,63.01", "--from", "2030")
    assert result.exit_code == 0
    assert result.stderr == (
        "warning: region 6301 (Kabupaten Tanah Laut) has no observations in demo\n"
    )
    assert result.stdout.startswith("dataset,region_code")
    assert invoke("export", "demo", "--region", "6371", "--from", "2030").stderr == ""
