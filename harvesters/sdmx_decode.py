"""Turn SDMX observations (:class:`harvesters.sdmx_read.Message`) into records: pure, stable.

What each SDMX concept becomes (see docs/harvesters.md, "SDMX"):

- ``REF_AREA`` (or the catalog's ``region.dimension``): a region through ``region.map``; an
  area the map lacks is skipped, and the run log says which and how many;
- ``TIME_PERIOD``: the store's periods ``2024``, ``2024-S1``, ``2024-Q1``, ``2024-08``
  (``2024-A1`` and ``2024-M08`` too); weeks, days and date ranges fail the parse, naming one;
- ``OBS_VALUE``: the exact decimal as written (``23.60`` stays ``23.60``); empty or ``NaN`` is
  no value; text that is no number is no value, flag ``L``, the text kept as the note;
- ``OBS_STATUS``: the flag, its code as the source wrote it (``E``, ``P``, ``M``, ``L``, ``C``);
  ``A`` (normal value) is no flag; a missing value without a status gets ``L``;
- ``UNIT_MEASURE`` and ``UNIT_MULT``: the indicator's unit, ``Deaths per 1,000 live births``
  or ``Persons (thousands)`` (values stay as published, never multiplied);
- ``DECIMALS``: the indicator's published decimals, when one for all its observations;
- ``OBS_COMMENT`` / ``COMMENT_OBS``: the observation's note.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from harvesters.exceptions import ParseError
from harvesters.sdmx_read import TIME, Message, Observation
from opendata.exceptions import UnknownRegion
from opendata.model import (
    MAX_FLAG_LENGTH,
    NOT_AVAILABLE,
    Dimension,
    DimensionValue,
    Indicator,
    ParseResult,
    Record,
)

if TYPE_CHECKING:
    from harvesters.sdmx_query import SDMXQuery
    from opendata.regions import RegionIndex

NORMAL = "A"  #: OBS_STATUS of a normal value: no flag
TOTAL = "_T"  #: the SDMX code of a dimension's total
MISSING_TEXTS = frozenset({"", "nan", "NaN", "NAN"})
NOTE_ATTRIBUTES = ("OBS_COMMENT", "COMMENT_OBS")
MULTIPLIERS = {1: "tens", 2: "hundreds", 3: "thousands", 6: "millions", 9: "billions"}
MULTIPLIERS |= {12: "trillions"}
MAX_CODE_LENGTH = 64  #: the store's bound on a dimension value's code
MAX_INDICATOR_LENGTH = 80
SHOWN = 12  #: codes an error or a message lists before "..."

_PERIODS = [
    (re.compile(r"(\d{4})(?:-A1)?"), "{0}"),
    (re.compile(r"(\d{4})-S([12])"), "{0}-S{1}"),
    (re.compile(r"(\d{4})-Q([1-4])"), "{0}-Q{1}"),
    (re.compile(r"(\d{4})-M?(0[1-9]|1[0-2])"), "{0}-{1}"),
]
_REFUSED = [
    (re.compile(r"\d{4}-W\d{2}"), "weekly"),
    (re.compile(r"\d{4}-\d{2}-\d{2}(T.*)?|\d{4}-D\d{3}"), "daily"),
    (re.compile(r"\d{4}-T[1-3]"), "four-monthly (trimester)"),
    (re.compile(r".*/.*"), "a time range"),
]


def period_of(text: str, where: str) -> str:
    """Return the store's period of an SDMX ``TIME_PERIOD``; raise ParseError naming it."""
    text = text.strip()
    for pattern, form in _PERIODS:
        match = pattern.fullmatch(text)
        if match:
            return form.format(*match.groups())
    kind = next((k for pattern, k in _REFUSED if pattern.fullmatch(text)), "not a period")
    raise ParseError(
        f"{where}: TIME_PERIOD {text!r} is {kind}: the store keeps years (2024), semesters "
        "(2024-S1), quarters (2024-Q1) and months (2024-08) only"
    )


def value_of(text: str | None) -> tuple[Decimal | None, str | None]:
    """Return (exact value, note) of an ``OBS_VALUE``: no value for empty and NaN."""
    if text is None or text.strip() in MISSING_TEXTS:
        return None, None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None, text.strip()
    if not value.is_finite():
        return None, None
    if "e" in text.lower():  # 1.5E3: written out, digits kept (1500; 1.50E-2 is 0.0150)
        value = Decimal(format(value, "f"))
    return value, None


def unit_text(measure: str | None, multiplier: str | None, where: str) -> str | None:
    """The unit of ``UNIT_MEASURE``'s label and ``UNIT_MULT`` (a power of ten)."""
    if multiplier in (None, "", "0"):
        return measure or None
    try:
        power = int(multiplier)
    except ValueError:
        raise ParseError(f"{where}: UNIT_MULT {multiplier!r} is not a power of ten") from None
    words = MULTIPLIERS.get(power, f"× 10^{power}")
    return f"{measure} ({words})" if measure else words


@dataclass
class _Row:
    """An observation on its way to a record."""

    obs: Observation
    where: str
    region: str = ""


class Decoder:
    """Decode the data messages of one dataset with its ``sdmx:`` query."""

    def __init__(self, query: SDMXQuery, regions: RegionIndex, where: str):
        self.query = query
        self.regions = regions
        self.where = where  #: the catalog file, for errors about its keys
        self.messages: list[str] = []
        self.source_ref: str | None = None

    def decode(self, messages: Sequence[tuple[Message, str]]) -> ParseResult:
        """Decode ``(message, where it came from)`` pairs into a ParseResult."""
        rows = [_Row(obs, where) for message, where in messages for obs in message.observations]
        series = sum(m.series_without_observations for m, _ in messages)
        if not rows:
            detail = f" ({series} series keys without observations)" if series else ""
            where = ", ".join(w for _, w in messages)
            return ParseResult(messages=[f"{where}: no observation{detail}"], no_data=True)
        self.source_ref = messages[0][1]
        names, labels = _merged(messages)
        dimensions = _dimensions(messages)
        rows = self._select(rows)
        rows = self._regions(rows, dimensions)
        indicator_dim = self._indicator_dimension(dimensions)
        kept = self._kept(dimensions, indicator_dim)
        self._single_valued(rows, dimensions, {indicator_dim, *(k.component for k in kept)})
        records, units, decimals = self._records(rows, indicator_dim, kept)
        result = ParseResult(records=records, messages=self.messages)
        result.indicators = self._indicators(records, indicator_dim, labels, units, decimals)
        result.dimensions = [
            Dimension(
                k.id,
                k.label or names.get(k.component) or k.component,
                self._values(k, records, labels),
            )
            for k in kept
        ]
        return result

    # ---- which observations

    def _select(self, rows: list[_Row]) -> list[_Row]:
        for component, codes in self.query.select.items():
            present = [r for r in rows if _component(r.obs, component) is not None]
            if not present:
                raise ParseError(
                    f"{self.where}: sdmx.select names {component}, which no observation has "
                    f"(it has {', '.join(_components(rows))})"
                )
            rows = [r for r in rows if _component(r.obs, component) in codes]
        return rows

    def _regions(self, rows: list[_Row], dimensions: Sequence[str]) -> list[_Row]:
        query = self.query
        if query.region_code is not None:
            code = self._region(query.region_code, "sdmx.region.code")
            for row in rows:
                row.region = code
            return rows
        dimension = query.region_dimension
        if rows and all(dimension not in r.obs.key for r in rows):
            raise ParseError(
                f"{self.where}: sdmx.region.dimension {dimension} is not a dimension of the "
                f"message (it has {', '.join(d for d in dimensions if d != TIME)}); name the "
                "area dimension, or give the whole dataset one region with sdmx.region.code"
            )
        mapped = {
            area: self._region(code, f"sdmx.region.map.{area}")
            for area, code in query.region_map.items()
        }
        kept, skipped = [], {}
        for row in rows:
            area = row.obs.key.get(dimension, "")
            if area in mapped:
                row.region = mapped[area]
                kept.append(row)
            else:
                skipped[area] = skipped.get(area, 0) + 1
        if rows and not kept:
            raise ParseError(
                f"{self.where}: no observation is of an area in sdmx.region.map "
                f"({', '.join(mapped)}); the message's {dimension} codes are {_listed(skipped)}"
            )
        if skipped:
            self.messages.append(
                f"skipped {sum(skipped.values())} observation(s) of {len(skipped)} area(s) not in "
                f"sdmx.region.map: {_listed(skipped)}"
            )
        return kept

    def _region(self, code: str, key: str) -> str:
        try:
            return self.regions.require(code).code
        except UnknownRegion as exc:
            raise ParseError(f"{self.where}: {key}: {exc}") from None

    # ---- the dimensions

    def _indicator_dimension(self, dimensions: Sequence[str]) -> str | None:
        query = self.query
        if query.indicator_code is not None:
            return None
        dimension = query.indicator_dimension or "INDICATOR"
        if dimension not in dimensions:
            listed = ", ".join(d for d in dimensions if d != TIME)
            if query.indicator_dimension is None:
                raise ParseError(
                    f"{self.where}: the message has no INDICATOR dimension (it has {listed}): "
                    "declare sdmx.indicator, {dimension: ...} or {code: ..., name: ...}"
                )
            raise ParseError(
                f"{self.where}: sdmx.indicator.dimension {dimension} is not a dimension of the "
                f"message (it has {listed})"
            )
        return dimension

    def _kept(self, dimensions: Sequence[str], indicator: str | None) -> list:
        taken = {TIME, indicator, None if self.query.region_code else self.query.region_dimension}
        listed = _listed(d for d in dimensions if d != TIME)
        for kept in self.query.dimensions:
            if kept.component not in dimensions:
                raise ParseError(
                    f"{self.where}: sdmx.dimensions names {kept.component}, which is not a "
                    f"dimension of the message (it has {listed})"
                )
            if kept.component in taken:
                raise ParseError(
                    f"{self.where}: sdmx.dimensions names {kept.component}, which already is the "
                    "period, the region or the indicator"
                )
        return list(self.query.dimensions)

    def _single_valued(self, rows: list[_Row], dimensions: Sequence[str], kept: set) -> None:
        region = None if self.query.region_code else self.query.region_dimension
        for dimension in dimensions:
            if dimension in kept or dimension in (TIME, region):
                continue
            codes = list(dict.fromkeys(r.obs.key.get(dimension, "") for r in rows))
            if len(codes) > 1:
                raise ParseError(
                    f"{self.where}: dimension {dimension} has several values ({_listed(codes)}) "
                    f"but is not kept: list it in sdmx.dimensions, pick values with "
                    f"sdmx.select, or narrow the query's key; if it is an attribute, give the "
                    "data structure in sdmx.structure"
                )

    def _values(self, kept, records: Sequence[Record], labels) -> list[DimensionValue]:
        used = list(dict.fromkeys(dict(r.dimensions)[kept.id] for r in records))
        known = labels.get(kept.component, {})
        order = {code: i for i, code in enumerate(known)}
        first = {code: i for i, code in enumerate(used)}
        used.sort(key=lambda code: (order.get(code, len(order)), first[code]))
        return [DimensionValue(c, known.get(c) or c, c == TOTAL) for c in used]

    # ---- records

    def _records(self, rows: list[_Row], indicator_dim: str | None, kept) -> tuple:
        records: dict[tuple, Record] = {}
        units: dict[str, dict[tuple, str]] = {}
        decimals: dict[str, set[str]] = {}
        for row in rows:
            obs = row.obs
            indicator = obs.key[indicator_dim] if indicator_dim else self.query.indicator_code
            if len(indicator) > MAX_INDICATOR_LENGTH:
                raise ParseError(f"{row.where}: indicator code {indicator[:100]!r}... is too long")
            period = period_of(obs.key.get(TIME, ""), row.where)
            dims = tuple((k.id, self._code(obs, k.component, row.where)) for k in kept)
            value, note = value_of(obs.value)
            flag = obs.attributes.get("OBS_STATUS") or None
            if flag == NORMAL:
                flag = None
            if value is None and flag is None:
                flag = NOT_AVAILABLE
            if flag is not None and len(flag) > MAX_FLAG_LENGTH:
                raise ParseError(
                    f"{row.where}: OBS_STATUS {flag!r} is longer than {MAX_FLAG_LENGTH}"
                )
            comments = [obs.attributes[a] for a in NOTE_ATTRIBUTES if obs.attributes.get(a)]
            note = "; ".join([*comments, *([note] if note else [])]) or None
            record = Record(indicator, row.region, period, dims, value, flag, note)
            identity = record[:4]
            seen = records.get(identity)
            if seen is not None and seen != record:
                raise ParseError(
                    f"{row.where}: two observations give {indicator} {row.region} {period} "
                    f"{dict(dims) or ''} different values ({_shown(seen)} and {_shown(record)}): "
                    "a dimension that tells them apart is not kept (sdmx.dimensions)"
                )
            records.setdefault(identity, record)
            unit = (
                obs.attributes.get("UNIT_MEASURE") or obs.key.get("UNIT_MEASURE"),
                obs.attributes.get("UNIT_MULT"),
            )
            units.setdefault(indicator, {}).setdefault(unit, row.where)
            if obs.attributes.get("DECIMALS"):
                decimals.setdefault(indicator, set()).add(obs.attributes["DECIMALS"])
        return list(records.values()), units, decimals

    def _code(self, obs: Observation, component: str, where: str) -> str:
        code = obs.key.get(component, "")
        if not code or len(code) > MAX_CODE_LENGTH:
            raise ParseError(f"{where}: {component} code {code!r} is empty or too long")
        return code

    def _indicators(self, records, indicator_dim, labels, units, decimals) -> list[Indicator]:
        query = self.query
        indicators = []
        for code in dict.fromkeys(r.indicator for r in records):
            name = query.indicator_name or labels.get(indicator_dim, {}).get(code) or code
            unit = query.indicator_unit or self._unit(code, units.get(code, {}), labels)
            places = decimals.get(code, set())
            indicators.append(
                Indicator(
                    code=code,
                    name=name,
                    unit=unit,
                    decimals=int(next(iter(places)))
                    if len(places) == 1 and next(iter(places)).isdigit()
                    else None,
                    source_ref=self.source_ref,
                )
            )
        return indicators

    def _unit(self, indicator: str, units: Mapping[tuple, str], labels) -> str | None:
        texts = {}
        for (measure, multiplier), where in units.items():
            label = labels.get("UNIT_MEASURE", {}).get(measure or "") or measure
            texts[unit_text(label, multiplier, where)] = where
        if len(texts) > 1:
            raise ParseError(
                f"{self.where}: indicator {indicator} has observations in several units "
                f"({_listed([t or 'none' for t in texts])}): pick one with sdmx.select "
                "(UNIT_MEASURE or UNIT_MULT), or set sdmx.indicator.unit"
            )
        return next(iter(texts), None)


def _component(obs: Observation, component: str) -> str | None:
    return obs.key.get(component, obs.attributes.get(component))


def _components(rows: Sequence[_Row]) -> list[str]:
    found: dict[str, None] = {}
    for row in rows[:1000]:
        found.update(dict.fromkeys(row.obs.key))
        found.update(dict.fromkeys(row.obs.attributes))
    return list(found)


def _merged(messages: Sequence[tuple[Message, str]]) -> tuple[dict, dict]:
    names: dict[str, str] = {}
    labels: dict[str, dict[str, str]] = {}
    for message, _ in messages:
        for component, name in message.names.items():
            names.setdefault(component, name)
        for component, codes in message.labels.items():
            mine = labels.setdefault(component, {})
            for code, label in codes.items():
                mine.setdefault(code, label)
    return names, labels


def _dimensions(messages: Sequence[tuple[Message, str]]) -> list[str]:
    found: dict[str, None] = {}
    for message, _ in messages:
        found.update(dict.fromkeys(message.dimensions))
    return list(found)


def _listed(codes) -> str:
    codes = list(codes)
    shown = ", ".join(str(c) or "(empty)" for c in codes[:SHOWN])
    return shown + (f", ... ({len(codes)} in all)" if len(codes) > SHOWN else "")


def _shown(record: Record) -> str:
    value = "no value" if record.value is None else str(record.value)
    return value + (f" flag {record.flag}" if record.flag else "")
