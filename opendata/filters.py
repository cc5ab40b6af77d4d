"""Turn what a person asked for (region codes, periods, dimension values) into a store query.

Shared by the API and the command line, so both accept the same things and say the same thing
when something is wrong. Each problem is a :class:`FilterError` naming the parameter and what
to change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import Connection, select

from opendata.exceptions import OpendataError, PeriodError, clip, echo
from opendata.periods import parse_period
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


def split_codes(values: Iterable[str]) -> list[str]:
    """``["6371,6372", "6300"]`` -> ``["6371", "6372", "6300"]`` (blanks dropped)."""
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


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
        slug, codes = name[len(prefix) :], split_codes([value])
        if not slug or not codes:
            raise FilterError(
                name, f"use {prefix}<dimension>=<code>[,<code>], e.g. {prefix}jenis_kelamin=1,2"
            )
        dims.setdefault(slug, []).extend(codes)
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


def period_bounds(from_: str | None, to: str | None, names=("from", "to")):
    """The start day of ``from_`` and the end day of ``to`` (None where not given)."""
    bounds = []
    for text, name in zip((from_, to), names, strict=True):
        try:
            bounds.append(parse_period(text) if text else None)
        except PeriodError as exc:
            raise FilterError(name, str(exc)) from None
    start = bounds[0].start if bounds[0] else None
    end = bounds[1].end if bounds[1] else None
    if start and end and start > end:
        raise FilterError(names[0], f"{clip(from_)} starts after {names[1]}={clip(to)} ends")
    return start, end


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
