"""The period vocabulary: ``YYYY``, ``YYYY-MM``, ``YYYY-Qn``, ``YYYY-Sn``.

A period is the date interval it names (``2024-Q2`` is 2024-04-01 .. 2024-06-30). Filters compare
intervals, not strings, so ``from=2024-03`` keeps ``2024-Q2`` but not ``2024-Q1``.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from opendata.exceptions import PeriodError, echo

#: matched whole (``fullmatch``): ``$`` would also match before a trailing newline
_PATTERN = re.compile(r"([0-9]{4})(?:-(?:(0[1-9]|1[0-2])|Q([1-4])|S([12])))?")


@dataclass(frozen=True, order=True)
class Period:
    """A normalized period and the first and last day it covers."""

    start: date
    end: date
    text: str

    def __str__(self) -> str:
        return self.text

    @property
    def frequency(self) -> str:
        """One of ``annual``, ``semiannual``, ``quarterly``, ``monthly``."""
        if len(self.text) == 4:
            return "annual"
        return {"S": "semiannual", "Q": "quarterly"}.get(self.text[5], "monthly")


def _month_span(year: int, first: int, last: int) -> tuple[date, date]:
    return date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1])


def parse_period(text: str) -> Period:
    """Parse one period text; raise :class:`PeriodError` saying the accepted forms."""
    # Spaces around the text are forgiven (a command-line argument); the API refuses them.
    match = _PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
    if not match:
        raise PeriodError(
            f"{echo(text)} is not a period: use YYYY (2024), YYYY-MM (2024-08), "
            "YYYY-Qn (2024-Q3) or YYYY-Sn (2024-S1)"
        )
    year = int(match.group(1))
    if year < 1000:
        raise PeriodError(f"{echo(text)}: the year must have four digits, 1000 or later")
    month, quarter, semester = match.group(2, 3, 4)
    if month:
        start, end = _month_span(year, int(month), int(month))
    elif quarter:
        q = int(quarter)
        start, end = _month_span(year, 3 * q - 2, 3 * q)
    elif semester:
        s = int(semester)
        start, end = _month_span(year, 6 * s - 5, 6 * s)
    else:
        start, end = _month_span(year, 1, 12)
    return Period(start, end, match.group(0))


def year(y: int) -> str:
    return f"{y:04d}"


def month(y: int, m: int) -> str:
    return f"{y:04d}-{m:02d}"


def quarter(y: int, q: int) -> str:
    return f"{y:04d}-Q{q}"


def semester(y: int, s: int) -> str:
    return f"{y:04d}-S{s}"
