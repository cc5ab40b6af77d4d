"""CSV of observations: RFC 4180, comma-separated, ``.`` decimals, UTF-8 without BOM.

Columns: ``dataset, region_code, region_name, period``, then ``<id>_code, <id>`` for each
dimension of the dataset, then ``value, unit, flag, note`` (see :mod:`opendata.columns`; a
header with a column twice is refused). A target set's CSV (``ranges``) has ``value_to`` after
``value``: a range's other end, empty for a single figure; any other dataset's CSV has no such
column. Values are written as the exact decimal text the source
sent. Text cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return) get a leading apostrophe; numeric values such as ``-0.47`` are
never touched.

The writer is a generator of text chunks, so the API can stream it and the command line can
write it to a file without holding the whole table in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

from opendata import columns
from opendata.store.queries import ObservationRow

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHUNK_ROWS = 1000


def neutralize(text: str | None) -> str:
    """A text cell made safe from spreadsheet formula injection."""
    if not text:
        return ""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def header(dimensions: Sequence[str], ranges: bool = False) -> list[str]:
    """The CSV's columns; ValueError if a dimension id would give a column twice."""
    names = columns.header(dimensions, ranges)
    columns.check_header(names)  # the catalog and the harvesters never make one: a last defence
    return names


def write_csv(
    dataset_id: str,
    dimensions: Sequence[str],
    rows: Iterable[ObservationRow],
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]],
    ranges: bool = False,
) -> Iterator[str]:
    """Yield the CSV text of ``rows`` in chunks; ``dimensions`` are the dataset's slugs;
    ``ranges``: the dataset is a target set (a ``value_to`` column)."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(header(dimensions, ranges))
    dataset_cell = neutralize(dataset_id)
    empty: Mapping[str, tuple[str, str]] = {}
    # What a series fixes (region, dimension values, unit) is neutralized once per series.
    series_cells: dict[int, tuple[tuple[str, ...], tuple[str, ...], str]] = {}
    batch: list[tuple] = []
    for region_code, region_name, period, series_id, _s, _e, value, unit, flag, note, to in rows:
        fixed = series_cells.get(series_id)
        if fixed is None:
            values = series_dimensions.get(series_id, empty)
            cells: list[str] = []
            for slug in dimensions:
                code, label = values.get(slug, ("", ""))
                cells += [neutralize(code), neutralize(label)]
            head = (dataset_cell, region_code, neutralize(region_name))
            fixed = series_cells[series_id] = (head, tuple(cells), neutralize(unit))
        head, cells, unit_cell = fixed
        flag_cell = neutralize(flag) if flag else ""
        note_cell = neutralize(note) if note else ""
        if ranges:
            row = (
                *head,
                period,
                *cells,
                value or "",
                to or "",
                unit_cell,
                flag_cell,
                note_cell,
            )
        else:
            row = (*head, period, *cells, value or "", unit_cell, flag_cell, note_cell)
        batch.append(row)
        if len(batch) == CHUNK_ROWS:
            out.writerows(batch)
            batch.clear()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    out.writerows(batch)
    yield buffer.getvalue()


def write_changes_csv(
    dataset_id: str,
    dimensions: Sequence[str],
    rows: Iterable[Sequence],
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]],
    ranges: bool,
    timestamp: Callable[[object], str | None],
) -> Iterator[str]:
    """Yield the CSV of changes (``updated_after``): the observations' columns, then ``change``
    and ``updated_at`` (``timestamp`` of the row's time); a withdrawn cell's value is empty."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow([*header(dimensions, ranges), "change", "updated_at"])
    empty: Mapping[str, tuple[str, str]] = {}
    for count, row in enumerate(rows, 1):
        region_code, region_name, period, series_id, _s, _e, value, unit, flag, note, to = row[:11]
        values = series_dimensions.get(series_id, empty)
        cells: list[str] = []
        for slug in dimensions:
            code, label = values.get(slug, ("", ""))
            cells += [neutralize(code), neutralize(label)]
        ends = (value or "", to or "") if ranges else (value or "",)
        out.writerow(
            (
                neutralize(dataset_id),
                region_code,
                neutralize(region_name),
                period,
                *cells,
                *ends,
                neutralize(unit),
                neutralize(flag),
                neutralize(note),
                row[11],
                timestamp(row[12]),
            )
        )
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
