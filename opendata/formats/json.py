"""JSON of observation pages, assembled by hand: this is the API's hot path.

A page is ``{"data": [observation, ...], "next": url or null, "warnings": [text, ...]}``; an
observation is::

    {"region": {"code": "6371", "name": "Kota Banjarmasin"}, "period": "2024-08",
     "dimensions": {"jenis_kelamin": {"code": "1", "label": "Laki-laki"}},
     "value": 4.02, "unit": "Persen", "flag": null, "note": null}

``value`` is a JSON number written with exactly the digits the source sent (``7.10`` stays
``7.10``): the store's decimal text goes into the body as it is. Going through ``Decimal`` and a
JSON encoder would either quote it (Flask writes ``Decimal`` as a string) or, through ``float``,
lose digits. A range (a target ``6,0-6,9``) has ``"value_to": 6.9`` right after ``value``,
written the same way; other rows have no such key. Texts go through the JSON encoder, each
distinct one once per page (regions, units and dimension values repeat on every row).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

from opendata.store.queries import ObservationRow

_encode = json.JSONEncoder(ensure_ascii=False).encode
#: a JSON number; the writer's decimal texts always are one (NaN or Infinity would not be)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def number(text: str | None) -> str:
    """The JSON of a stored decimal text: the text itself, or ``null``."""
    return text if text is not None and _NUMBER.fullmatch(text) else "null"


def write_observations(
    rows: Iterable[ObservationRow],
    dimensions: Sequence[str],
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]],
    next_url: str | None,
    warnings: Sequence[str] = (),
    vintage: Vintage | None = None,
) -> str:
    """The JSON text of one page of ``rows``; ``dimensions`` are the dataset's slugs in order.

    ``vintage`` (a history answer) adds ``"as_of"``: the end of the run it shows (null before
    any run)."""
    parts = observation_parts(rows, dimensions, series_dimensions)
    return _page(parts, next_url, warnings, vintage)


def observation_parts(
    rows: Iterable[ObservationRow],
    dimensions: Sequence[str],
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]],
    dataset: str | None = None,
) -> list[str]:
    """The JSON text of each of ``rows``; with ``dataset``, each starts with ``"dataset"`` (the
    observations of several datasets: :func:`write_page` joins them)."""
    texts: dict[str | None, str] = {None: "null"}
    regions: dict[str, str] = {}
    dims: dict[int, str] = {}
    empty: Mapping[str, tuple[str, str]] = {}

    def text(value: str | None) -> str:
        encoded = texts.get(value)
        if encoded is None:
            encoded = texts[value] = _encode(value)
        return encoded

    parts = []
    head = "{" if dataset is None else f'{{"dataset":{_encode(dataset)},'
    # One pass per row, the rows as tuples: this loop is the hot path of every page.
    for region_code, region_name, period, series_id, _s, _e, value, unit, flag, note, to in rows:
        region = regions.get(region_code)
        if region is None:
            region = regions[region_code] = (
                f'{{"code":{text(region_code)},"name":{text(region_name)}}}'
            )
        dim = dims.get(series_id)
        if dim is None:
            values = series_dimensions.get(series_id, empty)
            dim = dims[series_id] = (
                "{"
                + ",".join(
                    f'{text(slug)}:{{"code":{text(values[slug][0])},'
                    f'"label":{text(values[slug][1])}}}'
                    for slug in dimensions
                    if slug in values
                )
                + "}"
            )
        other_end = "" if to is None else f',"value_to":{number(to)}'
        parts.append(
            f'{head}"region":{region},"period":{text(period)},"dimensions":{dim},'
            f'"value":{number(value)}{other_end},"unit":{text(unit)},'
            f'"flag":{text(flag)},"note":{text(note)}}}'
        )
    return parts


def write_page(
    parts: list[str], next_url: str | None, warnings: Sequence[str], total: int | None = None
) -> str:
    """The JSON text of a page of observations already written (:func:`observation_parts`)."""
    return _page(parts, next_url, warnings, None, total)


class Vintage(NamedTuple):
    """The ``as_of`` of a history answer: RFC 3339 UTC, or None before the first run."""

    as_of: str | None


def with_total(page: str, total: int) -> str:
    """A page's JSON text (any of this module's) with ``"total"`` as its last member: the rows
    of every page of the query (``count=true``)."""
    if not page.endswith("}"):
        raise ValueError("not a page of this module")
    return f'{page[:-1]},"total":{total:d}}}'


def _page(
    parts: list[str],
    next_url,
    warnings: Sequence[str],
    vintage: Vintage | None,
    total: int | None = None,
) -> str:
    as_of = "" if vintage is None else f',"as_of":{_encode(vintage.as_of)}'
    counted = "" if total is None else f',"total":{total:d}'
    return (
        f'{{"data":[{",".join(parts)}],"next":{_encode(next_url)},'
        f'"warnings":{_encode(list(warnings))}{as_of}{counted}}}'
    )


class _Texts(dict):
    """Each distinct text's JSON, encoded once."""

    def __missing__(self, value: str | None) -> str:
        encoded = self[value] = "null" if value is None else _encode(value)
        return encoded


def _dimensions(texts: _Texts, dimensions: Sequence[str], values: Mapping) -> str:
    return (
        "{"
        + ",".join(
            f'{texts[slug]}:{{"code":{texts[values[slug][0]]},"label":{texts[values[slug][1]]}}}'
            for slug in dimensions
            if slug in values
        )
        + "}"
    )


def _values(value: str | None, to: str | None) -> str:
    other_end = "" if to is None else f',"value_to":{number(to)}'
    return f'"value":{number(value)}{other_end}'


def write_changes(
    rows: Iterable[Sequence],
    dimensions: Sequence[str],
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]],
    next_url: str | None,
    warnings: Sequence[str],
    vintage: Vintage,
    timestamp: Callable[[object], str | None],
) -> str:
    """A page of changes (``updated_after``): observations (a withdrawn one with null value,
    flag and note) with ``change`` and ``updated_at`` (``timestamp`` of the row's time)."""
    texts = _Texts()
    parts = []
    for row in rows:
        region_code, region_name, period, series_id, _s, _e, value, unit, flag, note, to = row[:11]
        change, updated_at = row[11], row[12]
        dims = _dimensions(texts, dimensions, series_dimensions.get(series_id, {}))
        parts.append(
            f'{{"region":{{"code":{texts[region_code]},"name":{texts[region_name]}}},'
            f'"period":{texts[period]},"dimensions":{dims},{_values(value, to)},'
            f'"unit":{texts[unit]},"flag":{texts[flag]},"note":{texts[note]},'
            f'"change":{texts[change]},"updated_at":{_encode(timestamp(updated_at))}}}'
        )
    return _page(parts, next_url, warnings, vintage)


def write_revisions(
    cells: Iterable,
    dimensions: Sequence[str],
    series_dimensions: Mapping[int, Mapping[str, tuple[str, str]]],
    next_url: str | None,
    warnings: Sequence[str],
    timestamp: Callable[[object], str | None],
    run_url: Callable[[int], str],
) -> str:
    """A page of cells (:class:`opendata.store.history.Cell`), each with its ``versions``."""
    texts = _Texts()
    parts = []
    for cell in cells:
        dims = _dimensions(texts, dimensions, series_dimensions.get(cell.series_id, {}))
        versions = ",".join(
            f"{{{_values(v.value_text, v.value_to_text)},"
            f'"flag":{texts[v.flag]},"note":{texts[v.note]},'
            f'"withdrawn":{"true" if v.withdrawn else "false"},'
            f'"valid_from":{_encode(timestamp(v.valid_from))},'
            f'"valid_to":{_encode(timestamp(v.valid_to))},'
            f'"run":{_encode(v.run_id)},'
            f'"links":{{"run":{_encode(None if v.run_id is None else run_url(v.run_id))}}}}}'
            for v in cell.versions
        )
        parts.append(
            f'{{"region":{{"code":{texts[cell.region_code]},"name":{texts[cell.region_name]}}},'
            f'"period":{texts[cell.period]},"dimensions":{dims},"versions":[{versions}]}}'
        )
    return _page(parts, next_url, warnings, None)
