"""The achievement of plan targets as JSON pages and as CSV (``/datasets/<id>/achievement``).

A JSON item::

    {"region": {"code": "6300", "name": "Provinsi Kalimantan Selatan"}, "period": "2024",
     "dimensions": {}, "target": {"low": 6.0, "high": 6.9}, "actual": 4.56,
     "actual_period": "2024-08", "unit": "Persen", "better": "lower", "achieved": true,
     "achievement": 151.32, "target_unit": "Persen", "target_flag": null,
     "target_note": null, "actual_flag": null, "actual_note": null}

Figures are JSON numbers with the exact digits of the store (or of an exact product, where a
scale converts a target), ``achievement`` with exactly 2 decimals (``80.00``): written by hand,
as :mod:`opendata.formats.json` writes observations. The CSV has the columns of :func:`header`,
RFC 4180, UTF-8, with the formula guard of :mod:`opendata.formats.csv`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import NamedTuple

from opendata.formats.csv import neutralize
from opendata.formats.json import number

_encode = json.JSONEncoder(ensure_ascii=False).encode
_BOOLEAN = {True: "true", False: "false", None: "null"}
_EMPTY: Mapping[str, tuple[str, str]] = {}

FIXED_HEAD = ("region_code", "region_name", "period")
FIXED_TAIL = (
    "target_low",
    "target_high",
    "actual",
    "actual_period",
    "unit",
    "better",
    "achieved",
    "achievement",
    "target_flag",
    "target_note",
    "actual_flag",
    "actual_note",
)


class AchievementRow(NamedTuple):
    """One target cell against its actual figure, every figure as its exact text."""

    region_code: str
    region_name: str
    period: str
    series_id: int  #: the target series (its dimension values)
    low: str | None
    high: str | None
    actual: str | None
    actual_period: str | None
    unit: str | None
    target_unit: str | None
    better: str | None
    achieved: bool | None
    achievement: str | None
    target_flag: str | None = None  #: the target cell's flag and note: its source, a caveat
    target_note: str | None = None
    actual_flag: str | None = None  #: the actual figure's flag and note, as observed
    actual_note: str | None = None


def write_page(
    rows: Iterable[AchievementRow],
    dimensions: Sequence[str],
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]],
    next_url: str | None,
    warnings: Sequence[str] = (),
) -> str:
    """The JSON text of one page; ``dimensions`` are the target dataset's slugs in order."""
    parts = []
    for row in rows:
        values = series_dimensions.get(row.series_id, _EMPTY)
        dims = ",".join(
            f'{_encode(slug)}:{{"code":{_encode(values[slug][0])},'
            f'"label":{_encode(values[slug][1])}}}'
            for slug in dimensions
            if slug in values
        )
        parts.append(
            f'{{"region":{{"code":{_encode(row.region_code)},"name":{_encode(row.region_name)}}},'
            f'"period":{_encode(row.period)},"dimensions":{{{dims}}},'
            f'"target":{{"low":{number(row.low)},"high":{number(row.high)}}},'
            f'"actual":{number(row.actual)},"actual_period":{_encode(row.actual_period)},'
            f'"unit":{_encode(row.unit)},"better":{_encode(row.better)},'
            f'"achieved":{_BOOLEAN[row.achieved]},"achievement":{number(row.achievement)},'
            f'"target_unit":{_encode(row.target_unit)},'
            f'"target_flag":{_encode(row.target_flag)},"target_note":{_encode(row.target_note)},'
            f'"actual_flag":{_encode(row.actual_flag)},"actual_note":{_encode(row.actual_note)}}}'
        )
    return (
        f'{{"data":[{",".join(parts)}],"next":{_encode(next_url)},'
        f'"warnings":{_encode(list(warnings))}}}'
    )


def dimension_columns(dimensions: Sequence[str]) -> list[tuple[str, str]]:
    """The two columns of each dimension: ``<id>_code`` and ``<id>``, or ``<id>_dim_code`` and
    ``<id>_dim`` for an id whose columns would repeat a fixed column (``actual``)."""
    taken = set(FIXED_HEAD + FIXED_TAIL)
    pairs = []
    for slug in dimensions:
        name = slug
        while f"{name}_code" in taken or name in taken:
            name += "_dim"
        taken |= {f"{name}_code", name}
        pairs.append((f"{name}_code", name))
    return pairs


def header(dimensions: Sequence[str]) -> list[str]:
    """The CSV's columns."""
    columns = [c for pair in dimension_columns(dimensions) for c in pair]
    return [*FIXED_HEAD, *columns, *FIXED_TAIL]


def write_csv(
    dimensions: Sequence[str],
    pages: Iterable[Sequence[AchievementRow]],
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]],
) -> Iterator[str]:
    """Yield the CSV text of ``pages`` of rows, a chunk per page."""
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow(header(dimensions))
    yield buffer.getvalue()
    for rows in pages:
        buffer.seek(0)
        buffer.truncate()
        for row in rows:
            values = series_dimensions.get(row.series_id, _EMPTY)
            cells: list[str] = []
            for slug in dimensions:
                code, label = values.get(slug, ("", ""))
                cells += [neutralize(code), neutralize(label)]
            out.writerow(
                (
                    row.region_code,
                    neutralize(row.region_name),
                    row.period,
                    *cells,
                    row.low or "",
                    row.high or "",
                    row.actual or "",
                    row.actual_period or "",
                    neutralize(row.unit),
                    row.better or "",
                    "" if row.achieved is None else str(row.achieved).lower(),
                    row.achievement or "",
                    neutralize(row.target_flag),
                    neutralize(row.target_note),
                    neutralize(row.actual_flag),
                    neutralize(row.actual_note),
                )
            )
        yield buffer.getvalue()
