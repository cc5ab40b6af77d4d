"""Every setting once: its environment variable, default and help text.

Settings come from ``OPENDATA_*`` environment variables, then (web app, tests) explicit
overrides. :func:`load_settings` checks every value, and the rules between settings, where they
load: a bad one stops the command line (exit code 2) or the web app (:class:`ConfigurationError`)
with one line naming the variable and what to change. Default paths are absolute and derived from
the project folder, so a command run from cron behaves the same in any working directory.
``docs/configuration.md`` documents each setting; ``tests/test_docs.py`` fails when one is missing
there, or when code or docs name an ``OPENDATA_*`` variable that is no setting.
"""

from __future__ import annotations

import difflib
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from opendata.exceptions import ConfigurationError

#: The project folder: the checkout that holds ``opendata/``, ``datasets/`` and ``data/``.
PROJECT_DIR = Path(__file__).resolve().parent.parent
PREFIX = "OPENDATA_"
#: ``OPENDATA_*`` variables that are not settings of the app, so not reported as unknown
NOT_SETTINGS = frozenset({"OPENDATA_TEST_POSTGRES_URL"})  # the test suite's PostgreSQL server
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
BACKENDS = ("sqlite", "postgresql")


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


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError("must be a number, e.g. 2.5") from None
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ValueError("must be a whole number, e.g. 10") from None


def _positive_float(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _non_negative_float(text: str) -> float:
    value = _number(text)
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def _non_negative_int(text: str) -> int:
    value = _whole_number(text)
    if value < 0:
        raise ValueError("must be 0 or more")
    return value


def _positive_int(text: str) -> int:
    value = _whole_number(text)
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def _at_least(text: str, minimum: int) -> int:
    value = _whole_number(text)
    if value < minimum:
        raise ValueError(f"must be {minimum} or more")
    return value


def _log_level(text: str) -> str:
    level = text.strip().upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"use one of {', '.join(LOG_LEVELS)}")
    return level


def _database_url(text: str) -> str:
    try:
        backend = make_url(text.strip()).get_backend_name()
    except ArgumentError:
        backend = None
    if backend not in BACKENDS:
        raise ValueError(
            "must be an SQLAlchemy URL of SQLite or PostgreSQL, e.g. "
            "sqlite:////srv/opendata/data/opendata.sqlite3 or "
            "postgresql+psycopg://user@host:5432/dbname"
        )
    return text.strip()


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


def parse_origins(text: str) -> tuple[str, ...]:
    """``*``, or comma-separated web origins (``https://dashboard.kalselprov.go.id``); ``""``."""
    text = text.strip()
    if text in ("", "*"):
        return (text,) if text else ()
    origins = tuple(o.strip().rstrip("/") for o in text.split(",") if o.strip())
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path:
            raise ValueError(
                f"{origin!r} is not an origin: use *, or scheme://host[:port] items separated "
                "by commas, e.g. https://dashboard.kalselprov.go.id"
            )
    return origins


def _rate_limit(text: str) -> str:
    """A flask-limiter limit (``600 per minute``, ``10/second;1000/hour``), or empty for none."""
    text = text.strip()
    if text:
        from limits import parse_many

        try:
            parse_many(text)
        except ValueError:
            raise ValueError(
                "must be a limit such as '600 per minute' or '10/second;1000/hour', or empty"
            ) from None
    return text


def _storage_url(text: str) -> str:
    text = text.strip()
    if text and urlsplit(text).scheme not in ("memory", "redis", "rediss", "redis+sentinel"):
        raise ValueError("must be a redis:// (or rediss://) URL, memory://, or empty")
    return text


def _redis_url(text: str) -> str:
    text = text.strip()
    if text and urlsplit(text).scheme not in ("redis", "rediss", "unix"):
        raise ValueError("must be a redis://, rediss:// or unix:// URL, or empty")
    return text


def _path(text: str) -> Path:
    return Path(text).expanduser().resolve()


def _default_data_dir() -> Path:
    return PROJECT_DIR / "data"


def _default_database_url() -> str:
    return f"sqlite:///{_default_data_dir() / 'opendata.sqlite3'}"


def parse_networks(text: str) -> tuple[str, ...]:
    """Networks as a comma-separated list (``10.0.0.0/8,::1``), ``*`` for any, ``none``: none.

    Returned as normalized texts (``ipaddress`` networks are made where they are used).
    """
    import ipaddress

    text = text.strip()
    if text == "*":
        return ("*",)
    if text.lower() == "none":
        return ()
    networks = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ValueError(
                f"{part!r} is not a network: give addresses or networks separated by commas "
                "(127.0.0.1, 10.0.0.0/8, ::1), * for any, or none"
            ) from None
    return tuple(networks)


#: loopback and the private networks, where a Prometheus server of the office scrapes from
PRIVATE_NETWORKS = "127.0.0.0/8,::1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7"
ACCESS_LOG_FORMATS = ("text", "json")


def _access_log_format(text: str) -> str:
    value = text.strip().lower()
    if value not in ACCESS_LOG_FORMATS:
        raise ValueError(f"use one of {', '.join(ACCESS_LOG_FORMATS)}")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        _default_database_url,
        "SQLAlchemy URL of the store. Default: the SQLite file `data/opendata.sqlite3` in the "
        "project folder. PostgreSQL: `postgresql+psycopg://user@host:5432/dbname`.",
        _database_url,
    ),
    Setting(
        "DATABASE_READ_URL",
        "",
        "SQLAlchemy URL of a read replica of the store (PostgreSQL streaming replication): "
        "the web app reads from it, harvests and `opendata` commands write to "
        "`OPENDATA_DATABASE_URL`. Empty: the app reads the store itself.",
        lambda text: _database_url(text) if text.strip() else "",
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
        "CKAN_REQUESTS_PER_SECOND",
        2.0,
        "Highest request rate to a CKAN portal (`source: ckan`).",
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
        "HTTP_USER_AGENT",
        "Mozilla/5.0 (compatible; opendata-kalsel/0.1; open statistics harvester)",
        "User-Agent sent to sources other than BPS (spreadsheet and portal URLs).",
    ),
    Setting(
        "HARVEST_DATASET_TIMEOUT",
        900.0,
        "Seconds one dataset's fetch may take in all (requests, retries, waits); then that "
        "dataset fails and the harvest goes on with the next. No request waits past it. "
        "Parsing and writing are not counted. 0: no limit.",
        _non_negative_float,
    ),
    Setting(
        "LOCK_TIMEOUT",
        0,
        "Seconds a harvest waits for another run's lock before giving up with exit code 75 "
        "(0: give up at once).",
        _non_negative_int,
    ),
    Setting(
        "STALE_AFTER_FAILURES",
        3,
        "A dataset whose last harvests failed this many times in a row is `stale` (and "
        "`failing` in `opendata status`), however recently it was last checked.",
        _positive_int,
    ),
    Setting(
        "LOG_LEVEL",
        "INFO",
        "Log level of the command line (DEBUG, INFO, WARNING, ERROR or CRITICAL).",
        _log_level,
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
        "Largest `limit` the observations endpoint accepts (at least `OPENDATA_PAGE_SIZE`).",
        _positive_int,
    ),
    Setting(
        "MAX_URL_LENGTH",
        8000,
        "Longest request target (path and query string, in bytes) the API reads; a longer one "
        "is a 414 problem saying to ask for fewer codes or split the request. Keep it below "
        "the reverse proxy's limit (nginx: 8 KB by default), so that the API answers.",
        lambda text: _at_least(text, 1024),
    ),
    Setting(
        "MAX_CODES",
        500,
        "Most codes one list parameter (`region`, `dim.<dimension id>`) may hold in a request; "
        "more is a 400 naming the parameter.",
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
        "RATE_LIMIT",
        "600 per minute",
        "Requests one client (IP address) may make, as flask-limiter reads it (`600 per minute`, "
        "`10/second;1000/hour`); beyond it a 429 problem with Retry-After. Empty: no limit. "
        "Loopback clients are never limited.",
        _rate_limit,
    ),
    Setting(
        "RATE_LIMIT_STORAGE_URL",
        "",
        "Where the rate limit counts: empty for each worker's memory, or a Redis URL "
        "(`redis://127.0.0.1:6379/1`) shared by every worker and node.",
        _storage_url,
    ),
    Setting(
        "REDIS_URL",
        "",
        "A Redis URL (`redis://127.0.0.1:6379/0`) that every web worker and node shares: whole "
        "API responses are kept there (each worker's own cache in front), keyed by the store's "
        "data state, so a page made on one node is served by all and a harvest on any machine "
        "is seen by every node on its next request; the rate limits count there too, unless "
        "`OPENDATA_RATE_LIMIT_STORAGE_URL` says otherwise. Empty: each worker caches alone.",
        _redis_url,
    ),
    Setting(
        "REDIS_TTL",
        86400,
        "Seconds a response stays in the shared cache (`OPENDATA_REDIS_URL`) at most; entries of "
        "an older data state are never read again, and go when this runs out (or earlier, by "
        "Redis' own `maxmemory` policy).",
        _positive_int,
    ),
    Setting(
        "CORS_ORIGINS",
        "*",
        "Web origins whose pages may read the API from the browser (CORS): `*` for any (the "
        "default: the data is public), a comma-separated list of origins "
        "(`https://dashboard.kalselprov.go.id`), or empty for none.",
        parse_origins,
    ),
    Setting(
        "PROXY_COUNT",
        0,
        "How many reverse proxies stand in front of the web app. With 1 or more, the "
        "`X-Forwarded-For`, `-Proto`, `-Host`, `-Port` and `-Prefix` headers that many proxies "
        "set are trusted (werkzeug's ProxyFix); with 0 they are ignored.",
        _non_negative_int,
    ),
    Setting(
        "READY_MAX_FAILING_HOURS",
        0.0,
        "`/readyz` answers 503 when a dataset's harvests have failed since its last successful "
        "check and that check is this many hours old or more. 0: failing harvests never make "
        "a node unready (they are still listed in `/readyz` and `/metrics`).",
        _non_negative_float,
    ),
    Setting(
        "METRICS_NETWORKS",
        lambda: parse_networks(PRIVATE_NETWORKS),
        "Client networks that may read `/metrics` (comma-separated addresses or networks, `*` "
        "for any, `none` to turn `/metrics` off). Default: loopback and the private networks.",
        parse_networks,
    ),
    Setting(
        "ACCESS_LOG_FORMAT",
        "text",
        "Format of gunicorn's access log (`gunicorn.conf.py`): `text` (gunicorn's own line) or "
        "`json` (one JSON object a request, for a log shipper).",
        _access_log_format,
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


def _check_rules(settings: Settings) -> None:
    """The rules between settings; raise ConfigurationError naming both and what to change."""
    if settings["PAGE_SIZE"] > settings["MAX_PAGE_SIZE"]:
        raise ConfigurationError(
            f"{PREFIX}PAGE_SIZE={settings['PAGE_SIZE']} is larger than "
            f"{PREFIX}MAX_PAGE_SIZE={settings['MAX_PAGE_SIZE']}: the default page size must be "
            f"at most the largest one (set {PREFIX}PAGE_SIZE too)"
        )


def _parse(setting: Setting, raw: str) -> Any:
    try:
        return setting.parse(raw)
    except ValueError as exc:
        shown = "***" if setting.secret else repr(raw)
        raise ConfigurationError(f"{setting.env}={shown} is not valid: {exc}") from None


def load_settings(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> Settings:
    """Resolve every setting from defaults, then the environment, then explicit overrides.

    Each value is checked as its variable would be (an override ``7`` as the text ``"7"``), then
    the rules between settings; raise ConfigurationError on the first bad one.
    """
    environ = os.environ if environ is None else environ
    resolved = Settings()
    for setting in SETTINGS:
        raw = environ.get(setting.env)
        if raw is None or raw == "":
            resolved[setting.name] = setting.default_value()
        else:
            resolved[setting.name] = _parse(setting, raw)
    for name, value in (overrides or {}).items():
        if name not in SETTINGS_BY_NAME:
            raise ConfigurationError(f"unknown setting {name!r}")
        resolved[name] = _parse(SETTINGS_BY_NAME[name], str(value))
    _check_rules(resolved)
    return resolved


def unknown_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """Warnings about ``OPENDATA_*`` variables that are no setting (a typo is silently unused).

    Not an error: an environment shared with a newer or older release (a rollback) may hold
    settings this one does not know, and refusing to start over them would turn a harmless
    leftover into an outage.
    """
    environ = os.environ if environ is None else environ
    known = [s.env for s in SETTINGS]
    warnings = []
    for name in sorted(environ):
        if not name.startswith(PREFIX) or name in known or name in NOT_SETTINGS:
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
        hint = f"; did you mean {close[0]}?" if close else " (see docs/configuration.md)"
        warnings.append(f"{name} is not a setting and is ignored{hint}")
    return warnings
