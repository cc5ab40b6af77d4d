"""The small readings of BPS tables: labels, notes, names, slugs, periods and cell values.

Pure functions, each about one item of a BPS body; :mod:`harvesters.bps_decode` puts them
together into records.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from harvesters.exceptions import ParseError
from opendata import periods
from opendata.model import CONFIDENTIAL, MAX_FLAG_LENGTH, MISSING, NOT_AVAILABLE, DimensionValue

TOTAL_LABELS = frozenset({"jumlah", "total", "laki-laki+perempuan", "laki-laki dan perempuan"})
PSEUDO_TURVAR_LABELS = frozenset({"tidak ada", "tahun"})
ANNUAL_LABELS = frozenset({"tahun", "tahunan", "annual", "year"})
MONTHS = {
    **dict.fromkeys(("januari", "january"), 1),
    **dict.fromkeys(("februari", "pebruari", "february"), 2),
    **dict.fromkeys(("maret", "march"), 3),
    "april": 4,
    **dict.fromkeys(("mei", "may"), 5),
    **dict.fromkeys(("juni", "june"), 6),
    **dict.fromkeys(("juli", "july"), 7),
    **dict.fromkeys(("agustus", "august"), 8),
    "september": 9,
    **dict.fromkeys(("oktober", "october"), 10),
    **dict.fromkeys(("november", "nopember"), 11),
    **dict.fromkeys(("desember", "december"), 12),
}
_ORDINALS = {"1": 1, "2": 2, "3": 3, "4": 4, "i": 1, "ii": 2, "iii": 3, "iv": 4}
_SEMESTER = re.compile(r"^semester\s*(1|2|i|ii)\b")
_QUARTER = re.compile(r"^(?:triwulan|kuartal|quarter|tw|q)\s*(1|2|3|4|i|ii|iii|iv)\b")
_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")
#: BPS's symbols for a cell without a figure (its publications' "Penjelasan Tanda")
_SYMBOLS = {
    **dict.fromkeys(("\u2026", "...", "..", "na", "n/a", "n.a."), NOT_AVAILABLE),
    "x": CONFIDENTIAL,
}
_DASHES = re.compile(r"^[-\u2010-\u2015]+$")  #: nil: a hyphen, en or em dash, or a run of them
_MARK = re.compile(r"^[^\d\s]+$")  #: a mark of the source's own: no digit, no space
_ROMAN = re.compile(r"^(?=[IVX])X{0,3}(?:IX|IV|V?I{0,3})$")
_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<br\s*/?>|</p\s*>|</li\s*>|</div\s*>|</tr\s*>", re.IGNORECASE)
_ITEM = re.compile(r"<li\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\f\v\xa0]+")


@dataclass(frozen=True)
class Item:
    """One axis item: ``val`` as text (it builds keys), its label cleaned of HTML."""

    val: str
    label: str


# --- text -------------------------------------------------------------------------------------


def load_json(body: bytes) -> Any:
    """Decode a BPS body with every JSON number that has a fraction kept as an exact Decimal."""
    try:
        return json.loads(body.decode("utf-8-sig"), parse_float=Decimal, parse_constant=str)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ParseError(f"the body is not JSON: {exc}") from exc


def clean_label(text: Any) -> str:
    """Return a label without HTML tags and entities, its whitespace collapsed."""
    text = html.unescape(_TAG.sub(" ", str(text if text is not None else "")))
    return " ".join(text.replace("\xa0", " ").split())


def clean_notes(text: Any) -> str | None:
    """Return HTML notes as plain text: one line per break, paragraph or list item (``- ``)."""
    if not text:
        return None
    text = _ITEM.sub("- ", _BREAK.sub("\n", str(text)))
    text = html.unescape(_TAG.sub("", text))
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line) or None


def display_name(label: Any) -> str:
    """Return a region name for people: ``SIANTAR MARIHAT`` becomes ``Siantar Marihat``."""
    text = clean_label(label)
    if text != text.upper():
        return text  # already mixed case: the office's own spelling
    return re.sub(r"[^\W\d_]+", _capitalize, text)


def _capitalize(match: re.Match[str]) -> str:
    word = match.group(0)
    return word if _ROMAN.match(word) else word.capitalize()


def slugify(text: Any) -> str:
    """Return a dimension id: lowercase ascii words joined by ``_`` (``Jenis Kelamin``)."""
    text = unicodedata.normalize("NFKD", clean_label(text)).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug.lstrip("0123456789_")[:63].rstrip("_")


def is_total(label: str) -> bool:
    """Say whether a column or category label names the total of the others."""
    return re.sub(r"\s*\+\s*", "+", label.strip().lower()) in TOTAL_LABELS


def is_pseudo_turvar(turvar: Sequence[Item]) -> bool:
    """Say whether the columns are BPS's stand-in for none (``Tidak ada``, or a lone ``Tahun``)."""
    return len(turvar) == 1 and turvar[0].label.lower() in PSEUDO_TURVAR_LABELS


# --- periods ----------------------------------------------------------------------------------


def year_of(item: Item) -> int:
    """Return the year a ``tahun`` item names (its label, e.g. ``"2024"``)."""
    match = re.fullmatch(r"(\d{4})", item.label)
    if not match:
        raise ParseError(f"the year {item.label!r} (tahun {item.val}) is not a four-digit year")
    return int(match.group(1))


def period_of(year: int, sub: Item) -> str:
    """Return the period a year and a ``turtahun`` label name, by the label's meaning."""
    label = sub.label.lower()
    if label in ANNUAL_LABELS:
        return periods.year(year)
    if label in MONTHS:
        return periods.month(year, MONTHS[label])
    semester = _SEMESTER.match(label)
    if semester:
        return periods.semester(year, _ORDINALS[semester.group(1)])
    quarter = _QUARTER.match(label)
    if quarter:
        return periods.quarter(year, _ORDINALS[quarter.group(1)])
    raise ParseError(
        f"unknown sub-period {sub.label!r} (turtahun {sub.val}): not a year, month, "
        "quarter (Triwulan) or semester"
    )


# --- values -----------------------------------------------------------------------------------


def cell_value(raw: Any) -> tuple[Decimal | None, str | None, str | None]:
    """Return a cell's exact value, flag and note: a number, or None and why (the flag).

    BPS's symbols become the flag vocabulary of :data:`opendata.model.FLAGS`: ``-`` (nil) is
    ``M``, ``…`` or ``...`` (not available) is ``L``, ``x`` (confidential) is ``C``. Another
    short mark of the source's own (``*``, ``r``, ``e``) is kept as the flag verbatim; any other
    text (a digit in it, a space, too long for the flag) is ``L`` with the text as the note. An
    empty cell is like ``null``: no value, no flag.
    """
    if raw is None:
        return None, None, None
    if isinstance(raw, bool):
        return None, NOT_AVAILABLE, str(raw).lower()
    if isinstance(raw, Decimal | int):
        return Decimal(raw), None, None
    if not isinstance(raw, str):
        raise ParseError(f"a cell holds {type(raw).__name__} {raw!r}, not a number or a text")
    text = raw.strip()
    if _NUMBER.match(text):
        return Decimal(text), None, None
    if not text:
        return None, None, None
    symbol = _SYMBOLS.get(text.lower())
    if symbol is None and _DASHES.match(text):
        symbol = MISSING
    if symbol is not None:
        return None, symbol, None
    if _MARK.match(text) and len(text) <= MAX_FLAG_LENGTH:
        return None, text, None
    return None, NOT_AVAILABLE, text


def guess_column_name(values: Sequence[DimensionValue]) -> str | None:
    """Guess what columns break down from their labels when BPS names no group."""
    labels = [v.label for v in values if not v.is_total]
    lowered = {label.lower() for label in labels}
    if lowered and lowered <= {"laki-laki", "perempuan", "laki laki", "pria", "wanita"}:
        return "Jenis Kelamin"
    if lowered and lowered <= {"perkotaan", "perdesaan", "kota", "desa"}:
        return "Daerah"
    if len(labels) < 2:
        return None
    words = [label.split() for label in labels]
    common = []
    for group in zip(*words, strict=False):
        if len(set(group)) != 1:
            break
        common.append(group[0])
    guess = " ".join(common)
    return guess if slugify(guess) else None
