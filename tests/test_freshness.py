"""Freshness: when a dataset is due, when it is stale, how the catalog's schedule sets it."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from opendata.catalog import parse_spec
from opendata.exceptions import CatalogError
from opendata.freshness import Checks, freshness, parse_interval

NOW = datetime(2026, 6, 1, 3, 0)
DAY = timedelta(days=1)


def _spec(frequency: str | None = "annual", schedule=None):
    raw = {"id": "demo", "title": "T", "source": "bps", "bps": {"domain": "6300"}}
    if frequency:
        raw["frequency"] = frequency
    if schedule is not None:
        raw["schedule"] = schedule
    return parse_spec(raw, Path("demo.yaml"))


def test_a_dataset_never_checked_is_due_now_and_not_yet_stale():
    state = freshness(_spec(), Checks(), NOW)
    assert (state.state, state.due, state.stale, state.next_due) == ("never", True, False, None)


@pytest.mark.parametrize(
    ("checked_ago", "state", "due", "stale"),
    [
        (DAY, "fresh", False, False),
        (7 * DAY - timedelta(minutes=1), "fresh", False, False),
        (7 * DAY, "due", True, False),  # an annual table is checked weekly by default
        (14 * DAY - timedelta(minutes=1), "due", True, False),
        (14 * DAY, "overdue", True, True),  # a whole interval past due: cron is not running
    ],
)
def test_due_then_overdue_by_the_check_interval(checked_ago, state, due, stale):
    found = freshness(_spec(), Checks(last_checked=NOW - checked_ago), NOW)
    assert (found.state, found.due, found.stale) == (state, due, stale)
    assert found.next_due == NOW - checked_ago + 7 * DAY


def test_failures_in_a_row_make_it_failing_however_recent_the_last_check():
    checks = Checks(last_checked=NOW - DAY, failures=3, last_error="HarvestError: 503")
    found = freshness(_spec(), checks, NOW)
    assert (found.state, found.stale, found.due) == ("failing", True, False)
    assert freshness(_spec(), checks, NOW, failures_allowed=4).state == "fresh"
    assert found.as_json()["last_error"] == "HarvestError: 503"


def test_the_schedule_and_the_frequency_set_the_interval():
    assert freshness(_spec("monthly"), Checks(last_checked=NOW - DAY), NOW).due
    every_6h = _spec(schedule={"every": "6h"})
    assert freshness(every_6h, Checks(last_checked=NOW - timedelta(hours=5)), NOW).state == "fresh"
    assert freshness(every_6h, Checks(last_checked=NOW - timedelta(hours=6)), NOW).due
    assert freshness(every_6h, Checks(), NOW).as_json()["check_every"] == "6h"
    assert parse_interval("2w") == timedelta(weeks=2)


@pytest.mark.parametrize("schedule", [{"every": "1 day"}, {"every": "0d"}, "1d", {"cron": "x"}])
def test_a_bad_schedule_says_what_is_accepted(schedule):
    with pytest.raises(CatalogError, match="6h, 1d, 2w"):
        _spec(schedule=schedule)
