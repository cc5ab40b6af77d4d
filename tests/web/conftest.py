"""The bundled catalog harvested once per module on each store, and an app over it.

The pages show the bundled datasets as a person would meet them after ``make run``; harvesting
them (offline, through the command line) takes seconds, so a module's tests share one store
of each kind and only read it.
"""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from opendata import create_app
from opendata.cli import cli
from opendata.store import make_engine
from tests.conftest import STORES, _empty_postgres


@pytest.fixture(scope="module", params=STORES)
def demo_url(request, tmp_path_factory):
    """A store with the whole bundled catalog harvested, on each store kind."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("demo") / "store.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_server_url")
        engine = make_engine(url)
        _empty_postgres(engine)
        engine.dispose()
    env = {"OPENDATA_DATABASE_URL": url, "OPENDATA_CATALOG_DIR": ""}
    result = CliRunner().invoke(cli, ["harvest", "--all", "--offline"], env=env)
    assert result.exit_code == 0, result.output
    return url


@pytest.fixture(scope="module")
def demo_app(demo_url):
    app = create_app({"DATABASE_URL": demo_url, "TESTING": True})
    yield app
    app.extensions["opendata"].engine.dispose()


@pytest.fixture
def web(demo_app):
    return demo_app.test_client()
