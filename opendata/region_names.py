"""Regions named in words, as spreadsheets and portals name them: ``Kab. Banjar``, ``KOTA BANJAR
BARU``, ``Batola``.

INTERFACE STUB: the full rules (normalisation, province headings as context, Kalsel's traps,
legacy Papua names, aliases) are being written; the signature below is the contract the table
reader relies on. This stub matches a name to a region whose ``name`` or ``bps_name`` is the same
text, ignoring case and spacing only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from opendata.exceptions import OpendataError
from opendata.regions import RegionIndex


class NameMatchError(OpendataError, LookupError):
    """Names that match no region, or more than one; ``problems`` lists each (name, why)."""

    def __init__(self, problems: Sequence[tuple[str, str]]):
        self.problems = list(problems)
        listed = "; ".join(f"{name!r}: {why}" for name, why in self.problems[:50])
        more = f" (and {len(self.problems) - 50} more)" if len(self.problems) > 50 else ""
        super().__init__(
            f"{len(self.problems)} region name(s) could not be matched: {listed}{more}; "
            "add them to table.region.aliases (name -> code) in the catalog entry"
        )


def match_regions(
    names: Sequence[str],
    index: RegionIndex,
    *,
    within: str | None = None,
    aliases: Mapping[str, str] | None = None,
) -> list[str | None]:
    """The BPS code of each name, in table order.

    ``names`` are a table's region cells from top to bottom: a province heading (``GORONTALO``)
    gives the context in which the names below it resolve. ``within`` (a region code) limits
    matching to that region and those under it. ``aliases`` (name -> code in any code system)
    come first. A blank name gives None. Every name that matches no region or two is collected
    and raised together as :class:`NameMatchError`.
    """
    aliases = {_key(k): v for k, v in (aliases or {}).items()}
    by_name: dict[str, set[str]] = {}
    for region in index:
        for text in (region.name, region.bps_name):
            if text:
                by_name.setdefault(_key(text), set()).add(region.code)
    codes: list[str | None] = []
    problems: list[tuple[str, str]] = []
    for name in names:
        if not name or not name.strip():
            codes.append(None)
            continue
        key = _key(name)
        if key in aliases:
            codes.append(index.require(aliases[key]).code)
            continue
        found = sorted(by_name.get(key, ()))
        if within:
            found = [c for c in found if c == within or c.startswith(within.rstrip("0"))]
        if len(found) == 1:
            codes.append(found[0])
        else:
            codes.append(None)
            problems.append((name, "no region has this name" if not found else f"{found}"))
    if problems:
        raise NameMatchError(problems)
    return codes


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()
