"""The app factory: settings from the environment, then the config it is given."""

from __future__ import annotations

import pytest

from opendata import create_app
from opendata.exceptions import ConfigurationError


def test_config_takes_settings_and_flask_keys(tmp_path):
    app = create_app(
        {"DATABASE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}", "PAGE_SIZE": 7, "TESTING": True}
    )
    state = app.extensions["opendata"]
    assert state.settings.PAGE_SIZE == 7
    assert app.testing
    state.engine.dispose()


def test_the_environment_is_read(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENDATA_MAX_PAGE_SIZE", "50")
    monkeypatch.setenv("OPENDATA_PAGE_SIZE", "20")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}"})
    assert app.extensions["opendata"].settings.MAX_PAGE_SIZE == 50
    app.extensions["opendata"].engine.dispose()


def test_an_unknown_key_is_refused():
    with pytest.raises(ConfigurationError, match="PAGESIZE"):
        create_app({"PAGESIZE": 7})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OPENDATA_LOG_LEVEL", "LOUD", "OPENDATA_LOG_LEVEL='LOUD' is not valid: use one of"),
        ("OPENDATA_PAGE_SIZE", "20000", "OPENDATA_PAGE_SIZE=20000 is larger than"),
    ],
)
def test_a_bad_setting_stops_the_app_naming_it(tmp_path, monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=message):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}"})


def test_a_misspelt_variable_is_logged(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("OPENDATA_MAX_PAGESIZE", "50")
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 's.sqlite3'}"})
    app.extensions["opendata"].engine.dispose()
    assert "did you mean OPENDATA_MAX_PAGE_SIZE?" in caplog.text
