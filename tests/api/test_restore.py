"""ETags and cached responses never outlive a restore of the store from a backup."""

from __future__ import annotations

import shutil
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
