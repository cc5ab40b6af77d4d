"""Turn what a person asked for (region codes, periods, dimension values) into a store query.

Shared by the API and the command line, so both accept the same things and say the same thing
when something is wrong. Each problem is a :class:`FilterError` naming the parameter and what
to change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence, Set

from sqlalchemy import Connection, select

from opendata.exceptions import OpendataError, PeriodError, clip, echo
from opendata.periods import Period, parse_period
from opendata.regions import RegionIndex
from opendata.store import queries
from opendata.store import schema as t

#: the shape of a dataset id (as the catalog requires it)
_DATASET_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,79}")


class FilterError(OpendataError, ValueError):
    """A filter value that cannot be used; ``param`` names the parameter."""

    def __init__(self, param: str, message: str):
        param = clip(param)  # a parameter's name is input too
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


class UnknownDataset(OpendataError, LookupError):
    """No harvested dataset has this id."""


def split_codes(
    values: Iterable[str], param: str = "region", give: str = "region codes, e.g. 6371,6372"
) -> list[str]:
    """``["6371,6372", " 6300"]`` -> ``["6371", "6372", "6300"]``.

    An empty code (``""``, ``","``, ``"6371,"``) is a FilterError: an empty filter never means
    "everything". Spaces around a code are ignored.
    """
    codes = [code.strip() for value in values for code in value.split(",")]
    if not codes or not all(codes):
        raise FilterError(param, empty_message(param, give))
    return codes


def empty_message(param: str, give: str) -> str:
    """What an empty ``param`` is told: what to give instead, or to leave it out."""
    return f"empty; give {give}, or leave {param} out"


def dimension_filters(
    params: Iterable[tuple[str, str]], prefix: str = "dim."
) -> dict[str, list[str]]:
    """``[("dim.sex", "1,2"), ("region", "6371")]`` -> ``{"sex": ["1", "2"]}``.

    Only the parameters named ``<prefix><dimension id>`` are read; repeating one adds codes.
    """
    dims: dict[str, list[str]] = {}
    for name, value in params:
        if not name.startswith(prefix):
            continue
        slug = name[len(prefix) :]
        if not slug:
            raise FilterError(
                name, f"use {prefix}<dimension>=<code>[,<code>], e.g. {prefix}jenis_kelamin=1,2"
            )
        give = f"value codes of the dimension, e.g. {name}=1,2"
        dims.setdefault(slug, []).extend(split_codes([value], name, give))
    return dims


def require_dataset(conn: Connection, dataset_id: str) -> None:
    """Raise UnknownDataset, naming the harvested ones, if ``dataset_id`` was never harvested."""
    # Text that cannot be a catalog id is not looked up (PostgreSQL refuses NUL characters).
    if (
        not _DATASET_ID.fullmatch(dataset_id)
        or conn.execute(select(t.dataset.c.id).where(t.dataset.c.id == dataset_id)).first() is None
    ):
        known = conn.execute(select(t.dataset.c.id).order_by(t.dataset.c.id)).scalars().all()
        raise UnknownDataset(
            f"no dataset {echo(dataset_id)} has been harvested "
            f"(harvested: {', '.join(known) or 'none'})"
        )


def resolve_regions(index: RegionIndex, codes: Sequence[str], param: str = "region") -> list[str]:
    resolved = []
    for code in codes:
        region = index.resolve(code)
        if region is None:
            raise FilterError(
                param,
                f"no region has the code {echo(code)}; use a BPS code (6371, 6300), a Kemendagri "
                "code (63.71, 63) or 0000 for Indonesia",
            )
        resolved.append(region.code)
    return resolved


def regions_without_data(
    index: RegionIndex, codes: Sequence[str], with_data: Set[str], dataset_id: str
) -> list[str]:
    """A warning for each region of ``codes`` that has no observations at all in the dataset.

    Not for a region that merely has none in the filtered periods: that answer is complete.
    """
    return [
        f"region {code} ({index.require(code).name}) has no observations in {dataset_id}"
        for code in dict.fromkeys(codes)
        if code not in with_data
    ]


def period_bounds(from_: str | None, to: str | None, names=("from", "to")):
    """The start day of ``from_`` and the end day of ``to`` (None where not given)."""
    first, last = parse_periods(from_, to, names)
    start = first.start if first else None
    end = last.end if last else None
    if start and end and start > end:
        raise FilterError(names[0], f"{first} starts after {names[1]}={last} ends")
    return start, end


def parse_periods(
    from_: str | None, to: str | None, names=("from", "to")
) -> tuple[Period | None, Period | None]:
    """``from_`` and ``to`` parsed (None where not given); an empty one is a FilterError."""
    periods = []
    for text, name in zip((from_, to), names, strict=True):
        if text is not None and not text.strip():
            raise FilterError(name, empty_message(name, "a period, e.g. 2024 or 2024-Q3"))
        try:
            periods.append(parse_period(text) if text is not None else None)
        except PeriodError as exc:
            raise FilterError(name, str(exc)) from None
    return periods[0], periods[1]


def check_dimensions(
    dimensions: Sequence[queries.DimensionInfo],
    wanted: Mapping[str, Sequence[str]],
    dataset_id: str,
    param: str = "dim.{}",
) -> None:
    by_slug = {d.slug: d for d in dimensions}
    for slug, codes in wanted.items():
        info = by_slug.get(slug)
        if info is None:
            raise FilterError(
                param.format(slug),
                f"{dataset_id} has no dimension {echo(slug)} "
                f"(it has: {', '.join(by_slug) or 'none'})",
            )
        known = {code for code, _label, _total in info.values}
        bad = [c for c in codes if c not in known]
        if bad:
            raise FilterError(
                param.format(slug),
                f"unknown value(s) {clip(', '.join(bad))}; known: {', '.join(sorted(known))}",
            )


def regions_under(
    index: RegionIndex, codes: Sequence[str], level: str | None, param: str = "within"
) -> list[str]:
    """The BPS codes of every region under each of ``codes`` (any depth, not the region itself),
    kept to ``level`` when given; with no ``codes``, every region of ``level``.

    ``codes`` are in any code system (``6300``, ``63``); an unknown one is a FilterError. Read
    from the index, so regions a harvest added (districts) are under their parent too.
    """
    if not codes:
        return [r.code for r in index if r.level == level]
    found: dict[str, None] = {}
    for code in resolve_regions(index, codes, param):
        pending = index.children(code)
        while pending:
            region = pending.pop()
            if region.code not in found:
                found[region.code] = None
                pending.extend(index.children(region.code))
    return sorted(code for code in found if level is None or index.require(code).level == level)


def tree_warnings(
    index: RegionIndex,
    within: Sequence[str],
    level: str | None,
    tree: Sequence[str],
    with_data: Set[str],
    dataset_id: str,
) -> list[str]:
    """A warning when ``within``/``level`` name regions none of which has observations in the
    dataset (or name no region at all): the answer is then empty of them, not wrong."""
    if any(code in with_data for code in tree):
        return []
    at_level = f" at level {level}" if level else ""
    if not within:
        return [f"no region{at_level} has observations in {dataset_id}"]
    names = ", ".join(f"{r.code} ({r.name})" for r in (index.require(c) for c in within))
    if not tree:
        return [f"no region{at_level} is under {names}"]
    return [f"no region{at_level} under {names} has observations in {dataset_id}"]
