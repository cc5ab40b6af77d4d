"""Two API nodes: two gunicorn processes on one PostgreSQL store and one Redis, and a harvest
between their requests (issue 12, "Many nodes").

A page one node made is served by the other from the shared cache (its counters say a hit on its
first request); after a harvest, the very next request to either node has the new figures and
the new ETag, and the old ETag is no longer "not modified".
"""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
import requests
from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from opendata.cli import cli
from opendata.config import PROJECT_DIR
from opendata.store import make_engine
from tests.conftest import _empty_postgres
from tests.test_gunicorn import LIFETIME, _free_port, _wait_until_listening

DATASET = "gini-ratio-kabkota"
FILE = "gini_ratio_kabkota_2021_2024.csv"
PAGE = f"/api/v1/datasets/{DATASET}/observations?region=6303"  # Kabupaten Banjar


@pytest.fixture
def catalog(tmp_path):
    """A catalog of one spreadsheet dataset whose file the test edits between harvests."""
    folder = tmp_path / "catalog"
    (folder / "files").mkdir(parents=True)
    shutil.copy(PROJECT_DIR / "datasets" / f"{DATASET}.yaml", folder)
    shutil.copy(PROJECT_DIR / "datasets" / "files" / FILE, folder / "files")
    return folder


def _harvest(url: str, catalog) -> None:
    env = {"OPENDATA_DATABASE_URL": url, "OPENDATA_CATALOG_DIR": str(catalog)}
    result = CliRunner().invoke(cli, ["harvest", DATASET], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output


@pytest.fixture
def nodes(postgres_server_url, redis_url, catalog, tmp_path):
    """Two gunicorn nodes (one worker each) on the PostgreSQL store and the Redis."""
    if shutil.which("timeout") is None:
        pytest.skip("needs coreutils' timeout, so that gunicorn cannot outlive the tests")
    engine = make_engine(postgres_server_url)
    _empty_postgres(engine)
    engine.dispose()
    _harvest(postgres_server_url, catalog)
    processes, roots = [], []
    try:
        for number in (1, 2):
            metrics = tmp_path / f"metrics-{number}"
            metrics.mkdir()
            port = _free_port()
            env = {
                "PATH": "/usr/bin:/bin",
                "OPENDATA_DATABASE_URL": postgres_server_url,
                "OPENDATA_CATALOG_DIR": str(catalog),
                "OPENDATA_REDIS_URL": redis_url,
                "PROMETHEUS_MULTIPROC_DIR": str(metrics),
                "WEB_CONCURRENCY": "1",
                "GUNICORN_THREADS": "2",
            }
            command = ["timeout", LIFETIME, sys.executable, "-m", "gunicorn", "--config"]
            command += ["gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "wsgi:app"]
            process = subprocess.Popen(
                command,
                cwd=PROJECT_DIR,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            processes.append(process)
            _wait_until_listening(process, port)
            roots.append(f"http://127.0.0.1:{port}")
        yield roots
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stderr.close()


def _get(root: str, path: str = PAGE, **headers):
    return requests.get(f"{root}{path}", headers={"Connection": "close", **headers}, timeout=30)


def _cache_hits(root: str) -> float:
    text = _get(root, "/metrics").text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "opendata_response_cache_lookups_total"
        and sample.labels.get("result") == "hit"
    )


def _value(response) -> str:
    return str(response.json()["data"][-1]["value"])  # Banjar, 2024


def test_two_nodes_share_their_cache_and_see_a_harvest_at_once(nodes, catalog, postgres_server_url):
    one, two = nodes
    first = _get(one)
    assert first.status_code == 200 and _value(first) == "0.258"
    assert _cache_hits(two) == 0
    second = _get(two)  # its first request for the page: made by node one, served from Redis
    assert second.content == first.content
    assert second.headers["ETag"] == first.headers["ETag"]
    assert _cache_hits(two) == 1

    # a harvest on a third machine (here: this process) changes Banjar's 2024 figure
    table = catalog / "files" / FILE
    text = table.read_text(encoding="utf-8")
    table.write_text(
        text.replace("3;Banjar;0,344;0,3;0,297;0,258", "3;Banjar;0,344;0,3;0,297;0,261")
    )
    _harvest(postgres_server_url, catalog)

    for root in (two, one):  # the very next request of each node
        fresh = _get(root)
        assert _value(fresh) == "0.261"
        assert fresh.headers["ETag"] != first.headers["ETag"]
        stale = _get(root, **{"If-None-Match": first.headers["ETag"]})
        assert stale.status_code == 200 and _value(stale) == "0.261"
    assert _get(one).headers["ETag"] == _get(two).headers["ETag"]
