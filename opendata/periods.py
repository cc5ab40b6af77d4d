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


# --- periods as tables write them --------------------------------------------------------------

#: month names as Indonesian and English tables write them, with their short forms
MONTH_NAMES = {
    **dict.fromkeys(("januari", "january", "jan"), 1),
    **dict.fromkeys(("februari", "pebruari", "february", "feb", "peb"), 2),
    **dict.fromkeys(("maret", "march", "mar"), 3),
    **dict.fromkeys(("april", "apr"), 4),
    **dict.fromkeys(("mei", "may"), 5),
    **dict.fromkeys(("juni", "june", "jun"), 6),
    **dict.fromkeys(("juli", "july", "jul"), 7),
    **dict.fromkeys(("agustus", "august", "agu", "agt", "aug"), 8),
    **dict.fromkeys(("september", "sep", "sept"), 9),
    **dict.fromkeys(("oktober", "october", "okt", "oct"), 10),
    **dict.fromkeys(("november", "nopember", "nov", "nop"), 11),
    **dict.fromkeys(("desember", "december", "des", "dec"), 12),
}
_ORDINAL = {"1": 1, "2": 2, "3": 3, "4": 4, "i": 1, "ii": 2, "iii": 3, "iv": 4}
_QUARTER_WORDS = r"(?:triwulan|tw|kuartal|quarter|q)"
_SEMESTER_WORDS = r"(?:semester|smt|s)"
_LABEL_FORMS = (
    # 2024-Q1, 2024Q1, 2024 Q1, 2024 Triwulan I
    (re.compile(rf"(\d{{4}})\s*-?\s*{_QUARTER_WORDS}\s*-?\s*(iv|i{{1,3}}|[1-4])"), "yq"),
    # Q1 2024, Triwulan I 2024, TW 1-2024
    (re.compile(rf"{_QUARTER_WORDS}\s*-?\s*(iv|i{{1,3}}|[1-4])\s*[-/]?\s*(\d{{4}})"), "qy"),
    (re.compile(rf"(\d{{4}})\s*-?\s*{_SEMESTER_WORDS}\s*-?\s*(i{{1,2}}|[12])"), "ys"),
    (re.compile(rf"{_SEMESTER_WORDS}\s*-?\s*(i{{1,2}}|[12])\s*[-/]?\s*(\d{{4}})"), "sy"),
    (re.compile(r"(\d{4})-(0[1-9]|1[0-2])"), "ym"),  # 2024-03
    (re.compile(r"([a-z]+)\.?\s*[-/]?\s*(\d{4})"), "my"),  # Maret 2024, Mar-2024
    (re.compile(r"(\d{4})\s*[-/]?\s*([a-z]+)"), "ym-name"),  # 2024 Maret
)


def read_period(label: str) -> str | None:
    """The period a table's header cell names, in the store's vocabulary, or None.

    Reads ``2020``, ``2024-Q1`` (also ``Q1 2024``, ``Triwulan I 2024``, ``TW 1 2024``),
    ``2024-S1`` (also ``Semester II 2024``), ``2024-03`` and ``Maret 2024`` (also ``Mar 2024``,
    ``March 2024``). Anything else (``Realisasi 2014``, ``IPM``) is not a period: the label must
    be the period and nothing more. Case and spacing do not matter.
    """
    text = " ".join(str(label).split()).casefold()
    if len(text) == 4 and text.isdigit():
        return text if int(text) >= 1000 else None
    for pattern, form in _LABEL_FORMS:
        match = pattern.fullmatch(text)
        if match:
            return _period_of(form, *match.groups())
    return None


def _period_of(form: str, first: str, second: str) -> str | None:
    if form in ("yq", "ys", "ym", "ym-name"):
        year_text, part = first, second
    else:
        part, year_text = first, second
    y = int(year_text)
    if y < 1000:
        return None
    if form in ("yq", "qy"):
        return quarter(y, _ORDINAL[part])
    if form in ("ys", "sy"):
        return semester(y, _ORDINAL[part])
    if form == "ym":
        return month(y, int(part))
    number = MONTH_NAMES.get(part)
    return month(y, number) if number else None


#: the frequencies a period may have (the catalog's words), and their one-letter codes as
#: :func:`opendata.store.queries.frequency_of` computes them from a stored period
FREQUENCY_CODES = {"annual": "Y", "semiannual": "S", "quarterly": "Q", "monthly": "M"}
