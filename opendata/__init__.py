"""The open statistics of Kalimantan Selatan: harvest sources into one store, serve them.

:func:`create_app` is the web app's factory. Flask and the API are imported only when an app is
made, so the command line and cron harvests do not pay for them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy import Engine

    from opendata.config import Settings


def _split_config(config: Mapping[str, Any], flask_defaults: Mapping[str, Any]):
    """Settings of ours, and Flask's own keys (``TESTING``); anything else is a mistake."""
    from opendata.config import SETTINGS_BY_NAME
    from opendata.exceptions import ConfigurationError

    ours = {k: v for k, v in config.items() if k in SETTINGS_BY_NAME}
    flask = {k: v for k, v in config.items() if k not in SETTINGS_BY_NAME}
    unknown = sorted(k for k in flask if k not in flask_defaults)
    if unknown:
        raise ConfigurationError(f"unknown setting(s) {', '.join(unknown)}")
    return ours, flask


def _read_only_engine(settings: Settings) -> Engine:
    """The store's engine for the web app: its connections refuse to write.

    SQLite runs in WAL mode (see ``opendata.store.engine``): readers never wait for a harvest.
    """
    from sqlalchemy import event
    from sqlalchemy.engine import make_url

    from opendata.store import make_engine

    url = settings.DATABASE_READ_URL or settings.DATABASE_URL  # a replica, where there is one
    if make_url(url).get_backend_name() == "postgresql":
        options = {"options": "-c default_transaction_read_only=on", "connect_timeout": 10}
        return make_engine(url, connect_args=options)
    engine = make_engine(url)

    @event.listens_for(engine, "connect")
    def _query_only(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    return engine


def _load_catalog(settings: Settings) -> tuple[Mapping[str, Any] | None, str | None]:
    """The catalog, or None and why it did not load (``/healthz`` reports it)."""
    from opendata.catalog import load_catalog

    try:
        return load_catalog(settings.CATALOG_DIR), None
    except Exception as exc:  # noqa: BLE001 - a broken catalog must not stop the API serving
        return None, f"{type(exc).__name__}: {exc}"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Make the web app: settings from the environment, then ``config`` (tests).

    Raise ConfigurationError, naming the variable, if a setting is not valid: the app does not
    start (gunicorn, which loads it before forking, stops with that message).
    """
    from opendata.api import App, init_api
    from opendata.api.context import ApiState
    from opendata.config import load_settings, unknown_variables
    from opendata.web import init_web

    app = App(__name__)
    ours, flask_config = _split_config(config or {}, app.config)
    app.config.update(flask_config)
    settings = load_settings(overrides=ours)  # a bad setting: ConfigurationError, no app
    for warning in unknown_variables():
        app.logger.warning(warning)
    app.json.sort_keys = False  # keep the documented order of fields
    app.json.ensure_ascii = False
    catalog, catalog_error = _load_catalog(settings)
    api = init_api(app, ApiState(settings, _read_only_engine(settings), catalog, catalog_error))
    init_web(app, api)
    return app
