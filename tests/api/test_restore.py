"""ETags and cached responses never outlive a restore of the store from a backup."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select, update

from opendata.store import schema as t
from tests.api.conftest import CELLS, harvest


def _meta(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(t.store_meta.c.key, t.store_meta.c.value)).all())


def _put_meta(engine, meta: dict[str, str]) -> None:
    with engine.begin() as conn:
        for key in ("data_version", "data_token"):
            conn.execute(
                update(t.store_meta).where(t.store_meta.c.key == key).values(value=meta[key])
            )


URL = "/api/v1/datasets/demo/observations?region=6371&from=2024-08&to=2024-08"


def _values(response) -> list:
    return [o["value"] for o in response.get_json()["data"]]


def test_a_restored_store_harvested_again_is_not_taken_for_the_one_cached(store, client):
    backup = _meta(store)  # version v: what a backup taken now would hold
    harvest(store, {**CELLS, ("6371", "2024-08", "1"): "100"})  # harvest A: version v+1
    a = client.get(URL)
    assert _values(a) == [100, 7.10] and client.get(URL).get_data() == a.get_data()
    _put_meta(store, backup)  # the backup is restored ...
    harvest(store, {**CELLS, ("6371", "2024-08", "1"): "200"})  # ... harvest B: v+1 again
    assert int(_meta(store)["data_version"]) == int(backup["data_version"]) + 1
    b = client.get(URL)
    assert _values(b) == [200, 7.10]  # not A's cached page
    assert b.headers["ETag"] != a.headers["ETag"]
    assert client.get(URL, headers={"If-None-Match": a.headers["ETag"]}).status_code == 200


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_a_sqlite_file_restored_from_a_copy(store, app, client, store_url, tmp_path):
    path = Path(store_url.removeprefix("sqlite:///"))
    backup = tmp_path / "backup.sqlite3"

    def copy(source: Path, target: Path) -> None:
        # as an operator would: no connection open, the write-ahead log folded in
        store.dispose()
        app.extensions["opendata"].engine.dispose()
        for suffix in ("-wal", "-shm"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
        shutil.copy(source, target)

    copy(path, backup)
    harvest(store, {**CELLS, ("6371", "2024-08", "1"): "100"})
    a = client.get(URL)
    copy(backup, path)
    harvest(store, {**CELLS, ("6371", "2024-08", "1"): "200"})
    b = client.get(URL, headers={"If-None-Match": a.headers["ETag"]})
    assert b.status_code == 200 and _values(b) == [200, 7.10]


def _libpq_url(store_url: str) -> str:
    """The store's URL as pg_dump and pg_restore read it (no SQLAlchemy driver name)."""
    return store_url.replace("postgresql+psycopg://", "postgresql://", 1)


def _back_up(store_url: str, target: Path) -> None:
    """As docs/operations.md says: `opendata db backup` or `pg_dump -Fc`, while serving."""
    if store_url.startswith("sqlite"):
        from click.testing import CliRunner

        from opendata.cli import cli

        result = CliRunner().invoke(
            cli, ["db", "backup", str(target)], env={"OPENDATA_DATABASE_URL": store_url}
        )
        assert result.exit_code == 0, result.output
        assert "backed up the store" in result.output
        return
    if shutil.which("pg_dump") is None:
        pytest.skip("pg_dump is not installed")
    command = ["pg_dump", "-Fc", "--no-owner", "-f", str(target), _libpq_url(store_url)]
    subprocess.run(command, check=True, capture_output=True)


def _restore(store_url: str, backup: Path) -> None:
    """As docs/operations.md says, the services stopped (the caller disposed every engine)."""
    if store_url.startswith("sqlite"):
        path = Path(store_url.removeprefix("sqlite:///"))
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        shutil.copy(backup, path)
        return
    command = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction"]
    command += ["-d", _libpq_url(store_url), str(backup)]
    subprocess.run(command, check=True, capture_output=True)


def test_a_backup_restored_then_harvested_serves_the_new_figures_on_every_node(
    store, store_url, make_app, tmp_path
):
    backup = tmp_path / "backup.dump"
    nodes = [make_app(), make_app()]  # two API nodes: each its own cache, one store
    clients = [node.test_client() for node in nodes]
    _back_up(store_url, backup)  # online: both nodes serving
    harvest(store, {**CELLS, ("6371", "2024-08", "1"): "100"})  # harvest A, after the backup
    served_a = [client.get(URL) for client in clients]
    assert [_values(r) for r in served_a] == [[100, 7.10]] * 2
    assert served_a[0].headers["ETag"] == served_a[1].headers["ETag"]

    for engine in [store, *(node.extensions["opendata"].engine for node in nodes)]:
        engine.dispose()  # the services are stopped for the restore
    _restore(store_url, backup)
    harvest(store, {**CELLS, ("6371", "2024-08", "1"): "200"})  # the first harvest after it

    tag_a = served_a[0].headers["ETag"]
    for client in clients:
        response = client.get(URL, headers={"If-None-Match": tag_a})
        assert response.status_code == 200  # A's tag matches nothing served now
        assert _values(response) == [200, 7.10]  # not A's page the node cached
        assert response.headers["ETag"] != tag_a
    tags = {client.get(URL).headers["ETag"] for client in clients}
    assert len(tags) == 1  # both nodes agree
    assert clients[0].get(URL, headers={"If-None-Match": tags.pop()}).status_code == 304
