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
    for _ in range(3):  # whichever worker answers, it reports every worker's counts
        response = requests.get(f"{base}/metrics", headers={"Connection": "close"}, timeout=30)
        assert response.status_code == 200
        samples = {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text)
            for s in family.samples
        }
        ready = (("method", "GET"), ("route", "/readyz"), ("status", "200"))
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
