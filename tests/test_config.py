"""Settings: every value and every rule between them is checked where settings load."""

from __future__ import annotations

import pytest

from opendata.config import load_settings, unknown_variables
from opendata.exceptions import ConfigurationError


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OPENDATA_LOG_LEVEL", "LOUD", "use one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("OPENDATA_HTTP_TIMEOUT", "nan", "must be a finite number"),
        ("OPENDATA_HTTP_TIMEOUT", "soon", "must be a number"),
        ("OPENDATA_CACHE_MB", "inf", "must be a finite number"),
        ("OPENDATA_BPS_REQUESTS_PER_SECOND", "-inf", "must be a finite number"),
        ("OPENDATA_PAGE_SIZE", "10.5", "must be a whole number"),
        ("OPENDATA_DATABASE_URL", "data/opendata.sqlite3", "SQLAlchemy URL of SQLite or Postgr"),
        ("OPENDATA_DATABASE_URL", "mysql://db/x", "SQLAlchemy URL of SQLite or PostgreSQL"),
    ],
)
def test_a_bad_value_is_refused_naming_the_variable(name, value, message):
    with pytest.raises(ConfigurationError) as info:
        load_settings(environ={name: value})
    assert str(info.value).startswith(f"{name}={value!r} is not valid: ")
    assert message in str(info.value)


def test_the_log_level_is_read_in_any_case():
    assert load_settings(environ={"OPENDATA_LOG_LEVEL": "debug"}).LOG_LEVEL == "DEBUG"


@pytest.mark.parametrize(
    ("environ", "overrides"),
    [
        ({"OPENDATA_PAGE_SIZE": "20000"}, {}),
        ({"OPENDATA_MAX_PAGE_SIZE": "500"}, {}),
        ({}, {"PAGE_SIZE": 50, "MAX_PAGE_SIZE": 10}),
    ],
)
def test_the_page_size_may_not_exceed_the_largest_one(environ, overrides):
    with pytest.raises(ConfigurationError, match="PAGE_SIZE=.* is larger than .*MAX_PAGE_SIZE="):
        load_settings(environ=environ, overrides=overrides)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"PAGE_SIZE": 0}, "OPENDATA_PAGE_SIZE='0' is not valid: must be greater than 0"),
        ({"HTTP_RETRIES": 1.5}, "OPENDATA_HTTP_RETRIES='1.5' is not valid"),
        ({"LOG_LEVEL": "chatty"}, "OPENDATA_LOG_LEVEL='chatty' is not valid"),
    ],
)
def test_overrides_are_checked_like_the_environment(overrides, message):
    with pytest.raises(ConfigurationError, match=message):
        load_settings(environ={}, overrides=overrides)


def test_overrides_keep_their_meaning():
    settings = load_settings(environ={}, overrides={"PAGE_SIZE": 7, "CACHE_MB": 0.5})
    assert (settings.PAGE_SIZE, settings.CACHE_MB) == (7, 0.5)


def test_a_misspelt_variable_is_reported_with_the_likely_one():
    warnings = unknown_variables(
        {"OPENDATA_PAGESIZE": "5", "OPENDATA_PAGE_SIZE": "5", "OPENDATA_WHATEVER": "1", "HOME": "/"}
    )
    assert warnings == [
        "OPENDATA_PAGESIZE is not a setting and is ignored; did you mean OPENDATA_PAGE_SIZE?",
        "OPENDATA_WHATEVER is not a setting and is ignored (see docs/configuration.md)",
    ]


def test_the_test_suites_own_variable_is_not_reported():
    assert unknown_variables({"OPENDATA_TEST_POSTGRES_URL": "postgresql://x/y"}) == []
