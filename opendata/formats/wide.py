"""Wide CSV of observations: one row per series (a region and its breakdown), a column per period.

Columns: ``region_code, region_name``, then ``<id>_code, <id>`` for each dimension of the
dataset, then ``unit``, then one column per period in time order, named as stored (``2024``,
``2024-03``; a month before the quarter and year that start on the same day). The table a
journalist pastes into Datawrapper, or a spreadsheet charts.

Each cell is the exact value the source sent (``7.10`` stays ``7.10``); empty where the series
has no observation for that period, or the observation has no value (a missing value's flag
``M`` is not kept). Flags and notes have no place in a wide table and are left out: the long
CSV has them. A target set's range (``value`` 6.0, ``value_to`` 6.9) is one text cell
``6.0-6.9``, its ends in the published order joined by ``-`` as the source writes ranges.

The rows come in the store's stable order (region, series, period), so a series' observations
are consecutive: the writer keeps one series' cells at a time, and needs the periods (the
columns) before the first row. The cells are written as a :class:`~opendata.formats.csv.Profile`
says (plain, or for Excel with an Indonesian locale).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Mapping, Sequence

from opendata import columns
from opendata.formats.csv import BOM, CHUNK_ROWS, PLAIN, Profile

FIXED = ("region_code", "region_name")


class ChangedWhileStreaming(RuntimeError):
    """A row's period is not among the columns: the data changed between the two reads (SQLite
    reads each statement apart). The download ends broken, never silently short: ask again."""


UNIT = "unit"


def wide_header(dimensions: Sequence[str], periods: Sequence[str]) -> list[str]:
    """The columns before the periods, then the periods; ValueError if a column repeats."""
    names = list(FIXED)
    for slug in dimensions:
        names += columns.columns_of(slug)
    names.append(UNIT)
    if len(set(names)) != len(names):  # the catalog refuses such dimension ids: a last defence
        raise ValueError(f"a column would be there twice: {names}")
    return names + list(periods)


def range_cell(value: str, value_to: str, profile: Profile) -> str:
    """``6.0-6.9``: a range's two ends as one text cell, each written as a value."""
    return profile.text(f"{profile.value(value)}-{profile.value(value_to)}")


def write_wide(
    dimensions: Sequence[str],
    rows: Iterable[Sequence],
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]],
    periods: Sequence[str],
    profile: Profile = PLAIN,
) -> Iterator[str]:
    """Yield the wide CSV text of ``rows`` (in the stable order) in chunks; ``periods``: every
    period the rows have, in time order (:func:`opendata.store.queries.observation_periods`)."""
    buffer = io.StringIO()
    out = profile.writer(buffer)
    if profile.bom:
        buffer.write(BOM)
    head = wide_header(dimensions, [])
    period_cells = [profile.period(p) if profile.period else p for p in periods]
    out.writerow(head + period_cells)
    column = {period: number for number, period in enumerate(periods)}
    empty: Mapping[str, tuple[str, str]] = {}
    batch: list[list[str]] = []
    current: int | None = None
    row: list[str] = []
    fixed = len(head)
    for region_code, region_name, period, series_id, _s, _e, value, unit, _f, _n, to in rows:
        if series_id != current:
            if current is not None:
                batch.append(row)
            current = series_id
            values = series_dimensions.get(series_id, empty)
            row = [profile.code(region_code), profile.text(region_name)]
            for slug in dimensions:
                code, label = values.get(slug, ("", ""))
                row += [profile.code(code), profile.text(label)]
            row.append(profile.text(unit))
            row += [""] * len(periods)
            if len(batch) >= CHUNK_ROWS:
                out.writerows(batch)
                batch.clear()
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        position = column.get(period)
        if position is None:  # the periods were read before a harvest that added this one
            raise ChangedWhileStreaming(f"period {period} is not a column of this table")
        if value and to:
            row[fixed + position] = range_cell(value, to, profile)
        else:
            row[fixed + position] = profile.value(value)
    if current is not None:
        batch.append(row)
    out.writerows(batch)
    yield buffer.getvalue()
