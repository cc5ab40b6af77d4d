"""Regions named in words, as spreadsheets and portals name them: ``Kab. Banjar``, ``KOTA BANJAR
BARU``, ``Batola``.

A name is read as words: case, accents, spacing and punctuation do not count (``KEP, RIAU`` is
``Kep. Riau`` is ``Kepulauan Riau``; ``S I A K`` is ``Siak``; ``Banjar Baru`` is ``Banjarbaru``).
A leading ``Kab.``/``Kabupaten``, ``Kota``/``Kot.``/``Kotamadya`` or ``Prov.``/``Provinsi`` says
what kind of region follows, and a name so marked matches only a region of that kind: ``Kota
Banjar`` is the city in Jawa Barat (3279), ``Kab. Banjar`` the regency in Kalimantan Selatan
(6303). A name that is exactly a region's own name in the reference (its Kemendagri name or BPS's)
or one of the variants in ``data/region_name_variants.csv`` matches that region whatever its first
word: BPS calls Kabupaten Kotabaru (6302) "Kota Baru", and it is not a city.

Context decides what the words alone cannot, as a reader of the table would:

- ``within`` (a code) admits only that region and those under it;
- BPS lists each province in upper case followed by its kabupaten/kota: a name that is a
  province's is a heading, and the names below it resolve within that province first.
  Under ``GORONTALO``, ``Gorontalo`` is the kabupaten (7502), ``Kota Gorontalo`` the city; where
  the table writes its cities ``Kota ...``, a bare name under a province is not a city. Regencies
  moved to the new Papua provinces in 2022 count as under their old province too (``Merauke``
  under ``PAPUA`` is 9501). ``INDONESIA`` (0000) ends a province's context;
- ``aliases`` (name -> code of any system) come before everything.

Every name that matches no region or two is collected, with why, into one :class:`NameMatchError`.
The rules are described for users in ``docs/harvesters.md`` ("Regions by name").
"""

from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
import weakref
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import NamedTuple

from opendata.exceptions import OpendataError, echo
from opendata.regions import DATA, RegionIndex, RegionInfo, parent_of

#: spellings the reference lacks (abbreviations, former names), with where each is seen
VARIANTS = DATA / "region_name_variants.csv"
#: bumped when the rules change what a name resolves to (see :func:`rules_version`)
RULES = "1"

COUNTRY, PROVINCE, KABUPATEN, KOTA, REGENCY, DISTRICT = (
    "country",
    "province",
    "kabupaten",
    "kota",
    "regency",  # a kabupaten or kota whose name does not say which (an index of one's own)
    "district",
)
#: first words that say what kind of region the rest names
_PREFIXES = {
    "kabupaten": KABUPATEN,
    "kab": KABUPATEN,
    "kota": KOTA,
    "kot": KOTA,
    "kotamadya": KOTA,
    "kodya": KOTA,
    "provinsi": PROVINCE,
    "propinsi": PROVINCE,
    "prov": PROVINCE,
    "prop": PROVINCE,
}
_ADMITS = {KABUPATEN: {KABUPATEN, REGENCY}, KOTA: {KOTA, REGENCY}, PROVINCE: {PROVINCE}}
#: abbreviated words, read as the word wherever they stand
_WORDS = {"kep": "kepulauan", "adm": "administrasi"}
_NOT_WORD = re.compile(r"[\W_]+")


class NameMatchError(OpendataError, LookupError):
    """Names that match no region, or more than one; ``problems`` lists each (name, why)."""

    def __init__(self, problems: Sequence[tuple[str, str]]):
        self.problems = list(problems)
        listed = "; ".join(f"{name!r}: {why}" for name, why in self.problems[:50])
        more = f" (and {len(self.problems) - 50} more)" if len(self.problems) > 50 else ""
        super().__init__(
            f"{len(self.problems)} region name(s) could not be matched: {listed}{more}; "
            "add them to table.region.aliases (name -> code) in the catalog entry, "
            "or narrow table.region.within"
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
    gives the context in which the names below it resolve. ``within`` (a region code of any
    system) limits matching to that region and those under it. ``aliases`` (name -> code in any
    code system) come first. A blank name gives None. Every name that matches no region or two is
    collected and raised together as :class:`NameMatchError`.
    """
    table = _names(index)
    bound = index.require(str(within)).code if within is not None else None
    fixed = {_parse(str(name)).whole: str(code) for name, code in (aliases or {}).items()}
    parsed = {text: _parse(text) for text in set(names) if text and text.strip()}
    mixed_case = any(text.upper() != text for text in parsed)
    marks_cities = any(query.kind == KOTA for query in parsed.values())
    codes: list[str | None] = []
    problems: dict[tuple[str, str], None] = {}
    memo: dict[tuple[_Query, str | None, bool], tuple[str | None, str]] = {}
    heading: str | None = None
    for text in names:
        query = parsed.get(text) if text else None
        if query is None:
            codes.append(None)
            continue
        shouted = mixed_case and text.upper() == text
        key = (query, heading, shouted)
        if key not in memo:
            if query.whole in fixed:
                memo[key] = _alias(index, fixed[query.whole])
            else:
                memo[key] = table.resolve(query, heading, bound, shouted, marks_cities)
        code, why = memo[key]
        codes.append(code)
        if code is None:
            problems[(text.strip(), why)] = None
        elif table.kind[code] == PROVINCE:
            heading = code
        elif table.kind[code] == COUNTRY:
            heading = None
    if problems:
        raise NameMatchError(list(problems))
    return codes


@cache
def rules_version() -> str:
    """A token that changes when the rules or the variants do: part of a harvester's version.

    A harvester that matches names includes it in its ``version``, so that a harvest of the same
    files is re-parsed (not skipped as unchanged) once a name resolves differently.
    """
    digest = hashlib.sha256(VARIANTS.read_bytes()).hexdigest()[:12]
    return f"{RULES}.{digest}"


class _Query(NamedTuple):
    whole: str  #: every word, run together: "kotabaru"
    kind: str | None  #: what a first word Kab./Kota/Provinsi says
    rest: str  #: the words after that first word, run together


def _words(text: str) -> list[str]:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return [_WORDS.get(word, word) for word in _NOT_WORD.split(text.casefold()) if word]


def _parse(text: str) -> _Query:
    words = _words(text)
    kind = _PREFIXES.get(words[0]) if len(words) > 1 else None
    rest = words[1:] if kind else words
    if kind and len(rest) > 1 and rest[0] == "administrasi":  # Kota Administrasi Jakarta Pusat
        rest = rest[1:]
    return _Query("".join(words), kind, "".join(rest))


def _alias(index: RegionIndex, code: str) -> tuple[str | None, str]:
    region = index.resolve(code)
    if region is None:
        return None, f"table.region.aliases maps it to {echo(code)}, which is no region code"
    return region.code, ""


class _Names:
    """The normalised names of one RegionIndex, built once (see :func:`_names`)."""

    def __init__(self, index: RegionIndex, variants: Iterable[tuple[str, str]]) -> None:
        self.index = index
        self.kind = {region.code: _kind_of(region) for region in index}
        self.exact: dict[str, set[str]] = {}  # whole names: "kabupatenkotabaru", "kotabaru"
        self.base: dict[str, set[str]] = {}  # names without their Kab./Kota: "kotabaru"
        for region in index:
            for text in (region.name, region.bps_name):
                if text:
                    self._add(region.code, text)
        for text, code in variants:
            if code in self.kind:  # an index over part of the reference leaves the rest out
                self._add(code, text)
        legacy: dict[str, list[str]] = {}
        for alias in index.aliases:
            if alias.system == "bps-legacy":
                legacy.setdefault(alias.code, []).append(alias.alias)
        self.scope = {
            code: frozenset(a for c in (code, *legacy.get(code, ())) for a in self._ancestry(c))
            for code in self.kind
        }

    def _add(self, code: str, text: str) -> None:
        query = _parse(text)
        if not query.whole:
            return
        self.exact.setdefault(query.whole, set()).add(code)
        if query.kind is None:
            self.base.setdefault(query.whole, set()).add(code)
        elif self.kind[code] in _ADMITS[query.kind]:
            self.base.setdefault(query.rest, set()).add(code)

    def _ancestry(self, code: str) -> list[str]:
        """The code and every region above it (by the index, else by the code's shape)."""
        chain = []
        current: str | None = code
        while current is not None and current not in chain:
            chain.append(current)
            region = self.index.get(current)
            current = region.parent if region is not None else _shape_parent(current)
        return chain

    def candidates(self, query: _Query) -> set[str]:
        """Every region the words could name, before any context."""
        found = set(self.exact.get(query.whole, ()))
        if query.kind is None:
            found |= self.base.get(query.whole, set())
        else:
            admits = _ADMITS[query.kind]
            found |= {c for c in self.base.get(query.rest, ()) if self.kind[c] in admits}
        return found

    def resolve(
        self,
        query: _Query,
        heading: str | None,
        within: str | None,
        shouted: bool,
        marks_cities: bool,
    ) -> tuple[str | None, str]:
        """One name's code, or None and why, in the context the rows above it set."""
        found = self.candidates(query)
        if not found:
            return None, self._unmatched(query)
        if within is not None:
            inside = {c for c in found if within in self.scope[c]}
            if not inside:
                return None, f"no region within {self._label(within)} has this name; " + (
                    f"outside it: {self._labels(found)}"
                )
            found = inside
        if len(found) > 1 and heading is not None:
            under = {c for c in found if heading in self.scope[c]}
            found, heading = (under, heading) if under else (found, None)
        if len(found) > 1 and query.kind is None:
            found = self._prefer(found, heading, within, shouted, marks_cities)
        if len(found) > 1:
            return None, f"fits {len(found)} regions: {self._labels(found)}"
        return next(iter(found)), ""

    def _prefer(
        self,
        found: set[str],
        heading: str | None,
        within: str | None,
        shouted: bool,
        marks_cities: bool,
    ) -> set[str]:
        """Narrow a bare name's candidates as BPS's layout reads: see the module's docstring."""
        if heading is not None:
            if shouted and heading in found:
                return {heading}  # the heading again, in a table whose other names are not
            if any(self.kind[c] == KABUPATEN for c in found):
                found = found - {heading}  # the heading was given: Gorontalo is the kabupaten
        else:
            tops = {c for c in found if self.kind[c] in (PROVINCE, COUNTRY)}
            if len(tops) == 1:
                return tops  # a province's name, outside its own block, is the province
        province = heading or (within if within and self.kind.get(within) == PROVINCE else None)
        if province is not None and marks_cities:
            not_cities = {c for c in found if self.kind[c] != KOTA}
            if not_cities:
                found = not_cities  # this table writes its cities "Kota ..."
        return found

    def _unmatched(self, query: _Query) -> str:
        if query.kind is not None:
            others = self.base.get(query.rest, set())
            if others:
                kinds = ", ".join(
                    f"{self._labels({c})} is a {self.kind[c]}" for c in sorted(others)
                )
                return f"no {query.kind} has this name ({kinds})"
        return "no region has this name"

    def _label(self, code: str) -> str:
        region = self.index.get(code)
        return f"{region.name} ({code})" if region is not None else code

    def _labels(self, codes: Iterable[str]) -> str:
        return ", ".join(self._label(code) for code in sorted(codes))


def _kind_of(region: RegionInfo) -> str:
    if region.level == "country":
        return COUNTRY
    if region.level == "province":
        return PROVINCE
    if region.level == "district":
        return DISTRICT
    kind = _parse(region.name).kind
    return kind if kind in (KABUPATEN, KOTA) else REGENCY


def _shape_parent(code: str) -> str | None:
    try:
        return parent_of(code)
    except ValueError:
        return None


@cache
def _variants() -> tuple[tuple[str, str], ...]:
    with open(VARIANTS, encoding="utf-8", newline="") as file:
        return tuple((row["name"], row["code"]) for row in csv.DictReader(file))


_BUILT: weakref.WeakKeyDictionary[RegionIndex, _Names] = weakref.WeakKeyDictionary()


def _names(index: RegionIndex) -> _Names:
    """The normalised names of ``index``, built on first use and kept while the index lives."""
    table = _BUILT.get(index)
    if table is None:
        table = _BUILT[index] = _Names(index, _variants())
    return table
