"""Freshness: when a dataset was last checked and changed, when it is due, whether it is stale.

A harvest *checks* a dataset (a run that ends ``ok``, ``unchanged`` or ``no-data``: the source
answered) and sometimes *changes* it. A dataset is checked every ``schedule.every`` of its
catalog entry, or by default every :data:`DEFAULT_EVERY` of its ``frequency``; it is **due** once
that interval has passed since its last check (or when it was never checked), and **stale** when
a whole interval more has passed without a check (the cron job is not running, or every run
fails) or when its last ``failures_allowed`` runs or more in a row failed. Pure: the caller reads
the runs (``opendata.store.checks``) and passes the time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from opendata.model import DatasetSpec

#: how often a dataset is checked when its catalog entry sets no ``schedule.every``
DEFAULT_EVERY = {
    "monthly": timedelta(days=1),
    "quarterly": timedelta(days=3),
    "semiannual": timedelta(days=7),
    "annual": timedelta(days=7),
    None: timedelta(days=7),
}
_INTERVAL = re.compile(r"([1-9][0-9]{0,3})([hdw])")
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}

#: states, in the order ``opendata status`` lists them (the ones needing a look first)
STATES = ("failing", "overdue", "never", "due", "fresh")


def parse_interval(text: str) -> timedelta:
    """``6h``, ``1d``, ``2w`` -> a timedelta; ValueError says what is accepted."""
    match = _INTERVAL.fullmatch(str(text).strip())
    if not match:
        raise ValueError(
            f"{text!r} is not an interval: a number of hours, days or weeks, e.g. 6h, 1d, 2w"
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def check_interval(spec: DatasetSpec) -> timedelta:
    """How often ``spec`` is checked: its ``schedule.every``, or its frequency's default."""
    return spec.check_every or DEFAULT_EVERY.get(spec.frequency, DEFAULT_EVERY[None])


@dataclass(frozen=True)
class Checks:
    """What the run log says of one dataset (``opendata.store.checks.read_checks``)."""

    last_checked: datetime | None = None  #: the end of the last run that reached the source
    last_changed: datetime | None = None  #: the end of the last run that changed its data
    source_last_update: datetime | None = None  #: the source's own date, where it gives one
    failures: int = 0  #: failed or interrupted runs since the last check
    last_error: str | None = None  #: the error of the latest of those


@dataclass(frozen=True)
class Freshness:
    """A dataset's freshness at one instant (all times naive UTC, as the store keeps them)."""

    dataset_id: str
    every: timedelta
    last_checked: datetime | None
    last_changed: datetime | None
    source_last_update: datetime | None
    next_due: datetime | None  #: None: never checked, due now
    due: bool
    stale: bool
    state: str  #: one of STATES
    failures: int
    last_error: str | None

    def as_json(self) -> dict:
        """The fields the API and ``opendata status --json`` show (RFC 3339 UTC times)."""

        def moment(value: datetime | None) -> str | None:
            return None if value is None else value.replace(microsecond=0).isoformat() + "Z"

        return {
            "state": self.state,
            "stale": self.stale,
            "due": self.due,
            "check_every": _interval_text(self.every),
            "last_checked": moment(self.last_checked),
            "last_changed": moment(self.last_changed),
            "source_last_update": moment(self.source_last_update),
            "next_due": moment(self.next_due),
            "failures_in_a_row": self.failures,
            "last_error": self.last_error,
        }


def _interval_text(every: timedelta) -> str:
    hours = int(every.total_seconds() // 3600)
    if hours % (24 * 7) == 0:
        return f"{hours // (24 * 7)}w"
    return f"{hours // 24}d" if hours % 24 == 0 else f"{hours}h"


def freshness(
    spec: DatasetSpec, checks: Checks, now: datetime, failures_allowed: int = 3
) -> Freshness:
    """``spec``'s freshness at ``now`` given its run log."""
    every = check_interval(spec)
    next_due = None if checks.last_checked is None else checks.last_checked + every
    due = next_due is None or now >= next_due
    overdue = next_due is not None and now >= next_due + every
    failing = checks.failures >= failures_allowed
    if failing:
        state = "failing"
    elif overdue:
        state = "overdue"
    elif checks.last_checked is None:
        state = "never"
    else:
        state = "due" if due else "fresh"
    return Freshness(
        dataset_id=spec.id,
        every=every,
        last_checked=checks.last_checked,
        last_changed=checks.last_changed,
        source_last_update=checks.source_last_update,
        next_due=next_due,
        due=due,
        stale=failing or overdue,
        state=state,
        failures=checks.failures,
        last_error=checks.last_error,
    )
