"""``OPENDATA_DATABASE_READ_URL``: the app reads a replica, harvests write the primary, and the
ETag always follows the data the replica serves (a lagging replica serves its older data with
its older ETag: never a new ETag over old data).

A replica is stood in for by a second SQLite file that "replicates" when the test copies the
primary into it (SQLite's online backup), so its lag is whatever the test makes it.
"""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from opendata.cli import cli
from tests.api.conftest import CELLS, harvest

PAGE = "/api/v1/datasets/demo/observations?region=6371"
#: a replica here is a copied SQLite file (a PostgreSQL replica streams: nothing to stand in for)
pytestmark = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)


def _replicate(primary: str, replica: str) -> None:
    source, target = sqlite3.connect(primary), sqlite3.connect(replica)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


@pytest.fixture
def stores(store_url, engine, tmp_path):
    harvest(engine, CELLS)
    primary = store_url.removeprefix("sqlite:///")
    replica = str(tmp_path / "replica.sqlite3")
    _replicate(primary, replica)
    return primary, replica


def test_the_app_reads_the_replica_and_its_etag_follows_the_replicas_data(stores, engine, make_app):
    primary, replica = stores
    client = make_app(DATABASE_READ_URL=f"sqlite:///{replica}").test_client()
    before = client.get(PAGE)
    assert before.status_code == 200 and b"4.02" in before.data

    harvest(engine, {**CELLS, ("6371", "2024-08", "1"): "4.20"})  # on the primary
    lagging = client.get(PAGE)
    assert b"4.02" in lagging.data and b"4.20" not in lagging.data  # the replica's data...
    assert lagging.headers["ETag"] == before.headers["ETag"]  # ...with the replica's ETag
    assert client.get(PAGE, headers={"If-None-Match": before.headers["ETag"]}).status_code == 304

    _replicate(primary, replica)  # the replica catches up
    caught_up = client.get(PAGE)
    assert b"4.20" in caught_up.data
    assert caught_up.headers["ETag"] != before.headers["ETag"]
    stale = client.get(PAGE, headers={"If-None-Match": before.headers["ETag"]})
    assert stale.status_code == 200


def test_harvests_write_the_primary_never_the_replica(stores, tmp_path):
    primary, replica = stores
    catalog = tmp_path / "one"
    catalog.mkdir()
    env = {
        "OPENDATA_DATABASE_URL": f"sqlite:///{primary}",
        "OPENDATA_DATABASE_READ_URL": f"sqlite:///{replica}",
        "OPENDATA_CATALOG_DIR": "",
    }
    result = CliRunner().invoke(cli, ["harvest", "tpt-provinsi", "--offline"], env=env)
    assert result.exit_code == 0, result.output
    runs = {}
    for name, path in (("primary", primary), ("replica", replica)):
        with sqlite3.connect(path) as conn:
            runs[name] = conn.execute(
                "SELECT count(*) FROM harvest_run WHERE dataset_id = 'tpt-provinsi'"
            ).fetchone()[0]
    assert runs == {"primary": 1, "replica": 0}


def test_a_bad_read_url_stops_the_app(store, make_app):
    from opendata.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="DATABASE_READ_URL"):
        make_app(DATABASE_READ_URL="mysql://somewhere/db")
