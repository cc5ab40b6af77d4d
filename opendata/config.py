"""Every setting once: its environment variable, default and help text.

Settings come from ``OPENDATA_*`` environment variables (the web app also reads them through
Flask's ``from_prefixed_env``). Default paths are absolute and derived from the project folder, so
a command run from cron behaves the same in any working directory. ``docs/configuration.md``
documents each setting; ``tests/test_docs.py`` fails when one is missing there.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from opendata.exceptions import ConfigurationError

#: The project folder: the checkout that holds ``opendata/``, ``datasets/`` and ``data/``.
PROJECT_DIR = Path(__file__).resolve().parent.parent
PREFIX = "OPENDATA_"


@dataclass(frozen=True)
class Setting:
    """One setting: its name without the prefix, default, parser and help text."""

    name: str
    default: Callable[[], Any] | Any
    help: str
    parse: Callable[[str], Any] = str
    secret: bool = False

    @property
    def env(self) -> str:
        return PREFIX + self.name

    def default_value(self) -> Any:
        return self.default() if callable(self.default) else self.default


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also refuses nan
        raise ValueError("must be 0 or more")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _http_url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL, e.g. https://webapi.bps.go.id/v1/api")
    return text.strip().rstrip("/")


def _public_url(text: str) -> str:
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL, e.g. https://data.kalselprov.go.id")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise ValueError("must have no query (?) and no fragment (#)")
    return text.strip().rstrip("/")


def _path(text: str) -> Path:
    return Path(text).expanduser().resolve()


def _default_data_dir() -> Path:
    return PROJECT_DIR / "data"


def _default_database_url() -> str:
    return f"sqlite:///{_default_data_dir() / 'opendata.sqlite3'}"


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        _default_database_url,
        "SQLAlchemy URL of the store. Default: the SQLite file `data/opendata.sqlite3` in the "
        "project folder. PostgreSQL: `postgresql+psycopg://user@host:5432/dbname`.",
    ),
    Setting(
        "CATALOG_DIR",
        lambda: PROJECT_DIR / "datasets",
        "Folder of the dataset catalog (`<id>.yaml` files, snapshots under `snapshots/`). "
        "Default: the bundled `datasets/`.",
        _path,
    ),
    Setting(
        "BPS_BASE_URL",
        "https://webapi.bps.go.id/v1/api",
        "Base URL of the BPS WebAPI.",
        _http_url,
    ),
    Setting(
        "BPS_API_KEY",
        "",
        "Key of the BPS WebAPI (register at webapi.bps.go.id). Needed for live harvests only; "
        "never logged.",
        secret=True,
    ),
    Setting(
        "BPS_USER_AGENT",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0 Safari/537.36 opendata-kalsel/0.1",
        "User-Agent sent to BPS. BPS's firewall blocks the default agents of HTTP libraries "
        "with a 403, so this must look like a browser.",
    ),
    Setting(
        "BPS_REQUESTS_PER_SECOND",
        2.0,
        "Highest request rate to the BPS WebAPI.",
        _positive_float,
    ),
    Setting(
        "HTTP_TIMEOUT",
        60.0,
        "Seconds to wait for an upstream response before retrying.",
        _positive_float,
    ),
    Setting(
        "HTTP_RETRIES",
        4,
        "Retries of an upstream request after a 5xx answer or a timeout, with exponential "
        "backoff (1 s, 2 s, 4 s, ...).",
        _non_negative_int,
    ),
    Setting(
        "LOCK_TIMEOUT",
        0,
        "Seconds a harvest waits for another run's lock before giving up with exit code 75 "
        "(0: give up at once).",
        _non_negative_int,
    ),
    Setting(
        "LOG_LEVEL",
        "INFO",
        "Log level of the command line (DEBUG, INFO, WARNING, ERROR).",
        str.upper,
    ),
    Setting(
        "PAGE_SIZE",
        1000,
        "Default `limit` of the observations endpoint.",
        _positive_int,
    ),
    Setting(
        "MAX_PAGE_SIZE",
        10000,
        "Largest `limit` the observations endpoint accepts.",
        _positive_int,
    ),
    Setting(
        "CACHE_MB",
        32.0,
        "Megabytes of hot API responses each web worker keeps in memory, keyed by the store's "
        "data version (0 turns the cache off). A body over an eighth of this is not kept.",
        _non_negative_float,
    ),
    Setting(
        "PUBLIC_URL",
        "",
        "The public URL of the web app's root (`https://data.example.go.id`, or with a path: "
        "`https://example.go.id/stats`): every absolute link the API answers (`next`, `Link`, "
        "`links`, redirects) starts with it. Unset: links are relative (`/api/v1/...`); the "
        "`Host` header is never used to build a link.",
        _public_url,
    ),
    Setting(
        "PROXY_COUNT",
        0,
        "How many reverse proxies stand in front of the web app. With 1 or more, the "
        "`X-Forwarded-For`, `-Proto`, `-Host`, `-Port` and `-Prefix` headers that many proxies "
        "set are trusted (werkzeug's ProxyFix); with 0 they are ignored.",
        _non_negative_int,
    ),
)

SETTINGS_BY_NAME = {s.name: s for s in SETTINGS}


class Settings(dict):
    """Resolved settings, keyed by name without the prefix (``settings["DATABASE_URL"]``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name.upper()]
        except KeyError as exc:
            raise AttributeError(name) from exc


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Resolve every setting from defaults, then the environment, then explicit overrides."""
    environ = os.environ if environ is None else environ
    resolved = Settings()
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is None or raw == "":
            resolved[setting.name] = setting.default_value()
            continue
        try:
            resolved[setting.name] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigurationError(f"{setting.env}={raw!r} is not valid: {exc}") from exc
    for name, value in (overrides or {}).items():
        if name not in SETTINGS_BY_NAME:
            raise ConfigurationError(f"unknown setting {name!r}")
        resolved[name] = value
    return resolved
