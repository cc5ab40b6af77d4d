"""The API reads the store while harvests write it, and never writes itself."""

from __future__ import annotations

import pytest
from sqlalchemy import insert, update
from sqlalchemy.exc import DBAPIError

from opendata.store import schema as t


def test_readers_do_not_wait_for_a_running_harvest(store, client):
    url = "/api/v1/datasets/demo"
    with store.begin() as conn:  # a harvest's transaction, still open
        conn.execute(update(t.dataset).values(frequency="annual"))
        conn.execute(
            update(t.store_meta).where(t.store_meta.c.key == "data_version").values(value="999")
        )
        response = client.get(url)
        assert response.status_code == 200
        assert response.get_json()["frequency"] is None  # what was committed, nothing more
    assert client.get(url).get_json()["frequency"] == "annual"


def test_the_app_cannot_write_to_the_store(app):
    with app.extensions["opendata"].engine.connect() as conn:
        with pytest.raises(DBAPIError, match="(?i)read.only|readonly"):
            conn.execute(insert(t.store_meta).values(key="x", value="y"))
