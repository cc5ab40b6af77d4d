"""JSON-stat 2.0 of observations: one ``dataset`` whose cube is the filtered observations.

Dimensions, in ``id`` order (the last varies fastest, so a series' periods sit side by side):

- ``indicator`` (role ``metric``): the dataset's indicators, with each one's unit in the
  category's ``unit`` extension (``{"label": "Persen", "decimals": 2}``, where the store knows
  them). Always there, of size 1 for a dataset of one indicator, so that the units have a place
  and a client reads every dataset the same way. Named ``indicator_dim`` (and so on) where a
  breakdown is itself called ``indicator``.
- ``region`` (role ``geo``): BPS codes, labelled with the region names, in code order.
- each breakdown of the dataset (``jenis_kelamin``, ...), its values in the source's order.
- ``period`` (role ``time``): ``2024``, ``2024-Q3`` ..., in time order (a month before the
  quarter and year that start on the same day), each labelled with itself.

Only categories that the answer has are listed (a filter narrows them), so ``size`` is the
product-space of what was asked, not of the whole dataset.

``value`` is sparse: an object from the position in that space (row-major, as JSON-stat says)
to the value, in position order, holding only the cells that exist. A dense array would be as
long as the product of the sizes, mostly ``null`` for a dataset whose breakdowns differ by
region or period. Each value is a JSON number with the digits the source sent (``7.10`` stays
``7.10``, as in :func:`opendata.formats.json.number`), ``null`` where the store has none.
``status`` (sparse too, always an object) holds the flags (``M``, ``L``, ``C`` or the source's
own mark). JSON-stat has no place for a cell's note or for a range's other end: they are in
``extension`` (``note`` and ``value_to``, keyed by position like ``status``), with the dataset's
id, license, attribution and source URL.

The rows are read once and kept (compactly) until the categories are known, then the text is
yielded in chunks: memory grows with the answer's size, unlike the CSV.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from opendata.formats.json import number
from opendata.store.queries import DimensionInfo, IndicatorInfo

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
#: values per chunk of the yielded text
CHUNK_CELLS = 2000
METRIC = "indicator"
REGION = "region"
PERIOD = "period"


@dataclass(frozen=True)
class Described:
    """What the dataset-level properties say: titles, source, license, dates, links."""

    dataset_id: str
    label: str
    source: str | None = None
    updated: str | None = None  #: RFC 3339 UTC: when a harvest last changed the data
    href: str | None = None  #: the URL of this answer
    extension: Mapping[str, Any] = field(default_factory=dict)


def metric_id(breakdowns: Sequence[str]) -> str:
    """``indicator``, or with ``_dim`` appended until no breakdown has that id."""
    name = METRIC
    while name in breakdowns:
        name += "_dim"
    return name


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


#: a dimension of the cube: id, label, [(category code, label)], more category properties
Axis = tuple[str, str, list[tuple[str, str]], dict]


def write_jsonstat(
    rows: Iterable[Sequence],
    described: Described,
    dimensions: Sequence[DimensionInfo],
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]],
    series_indicators: Mapping[int, str],
    indicators: Sequence[IndicatorInfo],
) -> Iterator[str]:
    """Yield the JSON-stat text of ``rows`` (ObservationRow positions) in chunks."""
    regions: dict[str, str] = {}
    periods: dict[str, tuple[date, date]] = {}
    cells: list[tuple] = []
    for region_code, region_name, period, series_id, start, end, value, _u, flag, note, to in rows:
        if region_code not in regions:
            regions[region_code] = region_name
        if period not in periods:
            periods[period] = (_day(start), _day(end))
        cells.append((region_code, series_id, period, value, flag, note, to))
    series = {cell[1] for cell in cells}
    ordered = sorted(periods, key=lambda p: (*periods[p], p))
    cube = [
        _metric(dimensions, indicators, {series_indicators[s] for s in series}),
        (REGION, "Region", list(regions.items()), {}),
        *_breakdowns(dimensions, series, series_dimensions),
        (PERIOD, "Period", [(p, p) for p in ordered], {}),
    ]
    sizes = [len(categories) for _id, _label, categories, _extra in cube]
    strides = [1] * len(sizes)
    for i in range(len(sizes) - 2, -1, -1):
        strides[i] = strides[i + 1] * sizes[i + 1]
    index = [{code: n for n, (code, _label) in enumerate(c)} for _i, _l, c, _e in cube]
    series_at = {}
    for series_id in series:
        # where the series' indicator and breakdown values put it; region and period add to it
        at = index[0][series_indicators[series_id]] * strides[0]
        values = series_dimensions.get(series_id, {})
        for d, dim in enumerate(dimensions, start=2):
            at += index[d][values[dim.slug][0]] * strides[d]
        series_at[series_id] = at
    region_at, period_at = index[1], index[-1]
    placed = sorted(
        (series_at[series] + region_at[region] * strides[1] + period_at[period], *rest)
        for region, series, period, *rest in cells
    )
    del cells
    yield from _text(described, cube, sizes, placed)


def _metric(
    dimensions: Sequence[DimensionInfo], indicators: Sequence[IndicatorInfo], used: set[str]
) -> Axis:
    """The indicator dimension: the indicators the answer has, with their units."""
    served = [i for i in indicators if i.code in used]
    units = {}
    for i in served:
        unit = {k: v for k, v in (("label", i.unit), ("decimals", i.decimals)) if v is not None}
        if unit:
            units[i.code] = unit
    metric = metric_id([d.slug for d in dimensions])
    return (
        metric,
        "Indicator",
        [(i.code, i.name) for i in served],
        {"unit": units} if units else {},
    )


def _breakdowns(
    dimensions: Sequence[DimensionInfo],
    series: set[int],
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]],
) -> list[Axis]:
    """Each breakdown with the values the answer's series have, in the source's order."""
    used: dict[str, set[str]] = {d.slug: set() for d in dimensions}
    for series_id in series:
        for slug, (code, _label) in series_dimensions.get(series_id, {}).items():
            used.setdefault(slug, set()).add(code)
    return [
        (
            dim.slug,
            dim.label,
            [(c, label) for c, label, _t in dim.values if c in used[dim.slug]],
            {},
        )
        for dim in dimensions
    ]


def _text(described: Described, cube: list[Axis], sizes: list[int], placed: list) -> Iterator[str]:
    """The JSON text: the metadata, then ``placed`` (position, value, flag, note, value_to)."""
    head = {
        "version": "2.0",
        "class": "dataset",
        "label": described.label,
        **({"source": described.source} if described.source else {}),
        **({"updated": described.updated} if described.updated else {}),
        **({"href": described.href} if described.href else {}),
        "id": [dim_id for dim_id, _l, _c, _e in cube],
        "size": sizes,
        "role": {"metric": [cube[0][0]], "geo": [REGION], "time": [PERIOD]},
        "dimension": {
            dim_id: {
                "label": label,
                "category": {
                    "index": [code for code, _ in categories],
                    "label": dict(categories),
                    **extra,
                },
            }
            for dim_id, label, categories, extra in cube
        },
    }
    yield _encode(head)[:-1] + ',"value":{'
    for start in range(0, len(placed), CHUNK_CELLS):
        comma = "," if start else ""
        yield comma + ",".join(
            f'"{position}":{number(value)}'
            for position, value, *_rest in placed[start : start + CHUNK_CELLS]
        )
    yield "}"
    flags = {str(p): flag for p, _v, flag, _n, _t in placed if flag}
    notes = {str(p): note for p, _v, _f, note, _t in placed if note}
    ends = ",".join(f'"{p}":{number(to)}' for p, _v, _f, _n, to in placed if to is not None)
    extension = {"dataset": described.dataset_id, **described.extension}
    if notes:
        extension["note"] = notes
    tail = f',"status":{_encode(flags)},"extension":{_encode(extension)}'
    if ends:
        tail = tail[:-1] + f',"value_to":{{{ends}}}}}'
    yield tail + "}"
