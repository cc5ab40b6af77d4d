"""The region reference: codes in both systems, names, hierarchy.

Canonical region codes are BPS codes: ``0000`` Indonesia, ``6300`` a province (Kalimantan Selatan),
``6371`` a kabupaten (regency) or kota (city), seven digits a kecamatan (district, ``6371010``).
Other code systems are aliases of a canonical code:

- ``bps-legacy``: the codes BPS used before the 2022 Papua split; from 2023 on BPS tables renumber
  26 regencies into the four new provinces (Merauke ``9401`` is now ``9501``, under ``9500``);
- ``kemendagri``: the Ministry of Home Affairs codes of Kalimantan Selatan (``63``, ``63.71``).
  They look like BPS codes without the dot but are a different system: Kemendagri ``11.01`` is Aceh
  Selatan, BPS ``1101`` is Simeulue, so only the dotted forms and ``63`` are stored.

``9999`` is not a region: national BPS tables use it as the row of their own aggregate.

The bundled reference (``opendata/data/*.csv``) is written by ``scripts/build_regions.py`` from
BPS's domain list; districts are not in it and join an index through
:meth:`RegionIndex.with_regions`.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from opendata.exceptions import UnknownRegion, echo

LEVELS = ("country", "province", "regency", "district")
SYSTEMS = ("bps-legacy", "kemendagri")

DATA = Path(__file__).with_name("data")
COUNTRY = "0000"
_BPS_CODE = re.compile(r"[0-9]{4}(?:[0-9]{3})?")
_CODE_HELP = (
    "use a BPS code (0000 Indonesia, 6300 a province, 6371 a kabupaten/kota, 7 digits a "
    "kecamatan) or a Kemendagri code of Kalimantan Selatan (63, 63.71)"
)


@dataclass(frozen=True)
class RegionInfo:
    """A region: its canonical BPS code, display name, level and parent."""

    code: str
    name: str
    level: str
    parent: str | None
    bps_name: str | None = None
    kemendagri_code: str | None = None

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"region {self.code}: level {self.level!r} is not one of {LEVELS}")


@dataclass(frozen=True)
class Alias:
    """A code of another system (``bps-legacy``, ``kemendagri``) that names a canonical region."""

    alias: str
    system: str
    code: str


def level_of(code: str) -> str:
    """Return the level a BPS code's shape says: country, province, regency or district."""
    if not _BPS_CODE.fullmatch(code):
        raise ValueError(f"{code!r} is not a BPS region code: {_CODE_HELP}")
    if len(code) == 7:
        return "district"
    if code == COUNTRY:
        return "country"
    return "province" if code.endswith("00") else "regency"


def parent_of(code: str) -> str | None:
    """Return the BPS code of the region that contains ``code`` (None for Indonesia)."""
    level = level_of(code)
    if level == "country":
        return None
    if level == "province":
        return COUNTRY
    if level == "regency":
        return code[:2] + "00"
    return code[:4]


class RegionIndex:
    """Regions by canonical code, and every code system's lookup to them."""

    def __init__(self, regions: Iterable[RegionInfo], aliases: Iterable[Alias] = ()) -> None:
        by_code: dict[str, RegionInfo] = {}
        for region in regions:
            if region.code in by_code and by_code[region.code] != region:
                raise ValueError(f"two different regions have code {region.code}")
            by_code[region.code] = region
        self._by_code = dict(sorted(by_code.items()))
        self._aliases = sorted(set(aliases), key=lambda a: (a.system, a.alias))
        self._children: dict[str, list[RegionInfo]] = {}
        for region in self._by_code.values():
            if region.parent is not None:
                self._children.setdefault(region.parent, []).append(region)
        # One dict per lookup, so that resolving is a single dict access per row of a harvest.
        self._bps = dict(self._by_code)
        self._any = dict(self._by_code)
        for alias in self._aliases:
            if alias.system not in SYSTEMS:
                raise ValueError(
                    f"alias {alias.alias}: system {alias.system!r} is not one of {SYSTEMS}"
                )
            target = self._by_code.get(alias.code)
            if target is None:
                continue  # an index over a subset of the reference keeps its aliases inert
            self._add(self._any, alias, target)
            if alias.system == "bps-legacy":
                self._add(self._bps, alias, target)

    def _add(self, lookup: dict[str, RegionInfo], alias: Alias, target: RegionInfo) -> None:
        if alias.alias in self._by_code:
            raise ValueError(f"alias {alias.alias} ({alias.system}) is also a canonical code")
        if lookup.setdefault(alias.alias, target) is not target:
            raise ValueError(f"alias {alias.alias} names two regions")

    @classmethod
    def reference(cls) -> RegionIndex:
        """Return the bundled reference: Indonesia, its provinces and kabupaten/kota."""
        return _reference()

    @property
    def regions(self) -> list[RegionInfo]:
        """Every region, sorted by code."""
        return list(self._by_code.values())

    @property
    def aliases(self) -> list[Alias]:
        """Every alias, sorted by system and alias."""
        return list(self._aliases)

    def get(self, code: str) -> RegionInfo | None:
        """Return the region with this canonical BPS code, or None."""
        return self._by_code.get(code)

    def resolve(self, text: str) -> RegionInfo | None:
        """Return the region a code of any system names (``6371``, ``63.71``, ``9401``), or None."""
        return self._any.get(text.strip())

    def resolve_bps(self, code: str) -> RegionInfo | None:
        """Return the region a BPS code names, current or legacy, or None; never Kemendagri."""
        return self._bps.get(code.strip())

    def require(self, text: str) -> RegionInfo:
        """Return the region a code of any system names; raise UnknownRegion if none does."""
        region = self.resolve(text)
        if region is None:
            raise UnknownRegion(f"no region has code {echo(text.strip())}: {_CODE_HELP}")
        return region

    def children(self, code: str) -> list[RegionInfo]:
        """Return the regions directly under a canonical code, sorted by code."""
        return list(self._children.get(code, ()))

    def with_regions(self, extra: Iterable[RegionInfo]) -> RegionIndex:
        """Return a new index with these regions added (districts a harvest found, say)."""
        return RegionIndex([*self._by_code.values(), *extra], self._aliases)

    def __iter__(self) -> Iterator[RegionInfo]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __repr__(self) -> str:
        return f"<RegionIndex {len(self)} regions, {len(self._aliases)} aliases>"


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as file:
        return list(csv.DictReader(file))


@cache
def _reference() -> RegionIndex:
    regions = [
        RegionInfo(
            code=row["code"],
            name=row["name"],
            level=row["level"],
            parent=row["parent"] or None,
            bps_name=row["bps_name"] or None,
            kemendagri_code=row["kemendagri_code"] or None,
        )
        for row in _read_csv("regions.csv")
    ]
    aliases = [Alias(**row) for row in _read_csv("region_aliases.csv")]
    return RegionIndex(regions, aliases)
