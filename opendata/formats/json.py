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
from collections.abc import Iterable, Mapping, Sequence

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
) -> str:
    """The JSON text of one page of ``rows``; ``dimensions`` are the dataset's slugs in order."""
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
            f'{{"region":{region},"period":{text(period)},"dimensions":{dim},'
            f'"value":{number(value)}{other_end},"unit":{text(unit)},'
            f'"flag":{text(flag)},"note":{text(note)}}}'
        )
    return (
        f'{{"data":[{",".join(parts)}],"next":{_encode(next_url)},'
        f'"warnings":{_encode(list(warnings))}}}'
    )
