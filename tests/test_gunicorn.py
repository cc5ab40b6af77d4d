"""The served app behind the real gunicorn (gunicorn.conf.py): limits answer problem+json.

gunicorn answers what it refuses itself with HTML; its limits are set so that the app's own
limits (problem+json) come first. One gunicorn on a free loopback port serves the module; it is
stopped at the end, and `timeout` stops it anyway should the test run die first.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time

import pytest
import requests

from opendata.config import PROJECT_DIR

PROBLEM = "application/problem+json"
LIFETIME = "300"  #: seconds after which gunicorn is stopped whatever happens
START_ATTEMPTS = 300  #: 50 ms apart


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_listening(process: subprocess.Popen, port: int) -> None:
    for _ in range(START_ATTEMPTS):
        if process.poll() is not None:
            pytest.fail(f"gunicorn stopped: {process.stderr.read().decode()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    pytest.fail("gunicorn did not start listening")


@pytest.fixture(scope="module")
def base_url(sqlite_template, tmp_path_factory):
    if shutil.which("timeout") is None:
        pytest.skip("needs coreutils' timeout, so that gunicorn cannot outlive the tests")
    store = tmp_path_factory.mktemp("gunicorn") / "store.sqlite3"
    shutil.copy(sqlite_template, store)
    port = _free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "OPENDATA_DATABASE_URL": f"sqlite:///{store}",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "2",
    }
    command = ["timeout", LIFETIME, sys.executable, "-m", "gunicorn", "--config"]
    command += ["gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--access-logfile", "/dev/null"]
    process = subprocess.Popen(
        [*command, "wsgi:app"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_until_listening(process, port)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()  # timeout passes it on to gunicorn
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stderr.close()


def test_two_thousand_region_codes_get_a_problem_not_html(base_url):
    codes = ",".join(["6371"] * 2000)
    response = requests.get(f"{base_url}/api/v1/datasets/x/observations?region={codes}", timeout=30)
    assert response.status_code == 414
    assert response.headers["Content-Type"] == PROBLEM
    assert "fewer codes" in response.json()["detail"]


def test_a_100_kb_parameter_gets_a_short_problem(base_url):
    response = requests.get(f"{base_url}/api/v1/regions?junk={'x' * 100_000}", timeout=30)
    assert response.status_code == 414
    assert response.headers["Content-Type"] == PROBLEM
    assert len(response.content) < 1000


def test_headers_a_proxy_passes_are_read(base_url):
    headers = {"Cookie": "session=" + "c" * 12_000, "X-Trace": "t" * 9000}
    response = requests.get(f"{base_url}/api/v1/regions/6371", headers=headers, timeout=30)
    assert response.status_code == 200
    assert response.json()["code"] == "6371"
