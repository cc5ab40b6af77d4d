"""Reading a table's cells exactly: numbers as published, footnote marks, missing markers.

Pure functions of one cell. Rules (see docs/harvesters.md, "Numbers, exactly"):

- A number written as text follows the table's ``decimal`` mark: with ``","`` ``1.234,56`` is
  1234.56, with ``"."`` ``1,234.56`` is. Undeclared, only what cannot be misread is read:
  ``391.98`` and ``1.234.567`` are, ``1.234`` (a thousand, or one and a bit?) fails naming the
  cell, and so does a table that writes ``1,5`` in one cell and ``2.5`` in another.
- A spreadsheet's numeric cell is what the sheet shows: integers stay integers, a number format
  that fixes decimals (``0.00``) keeps them (7.1 shown as ``7.10`` is ``7.10``), a percent format
  shows the value times 100. Floats become decimals through their shortest text (``repr``),
  never their binary expansion.
- A footnote mark glued to a value (``4,85*``, ``12.3 r)``) becomes the observation's flag
  (``*``, ``r``) and, where the catalog's ``marks`` says what it stands for, its note.
- A missing marker (``-``, ``…``) gives no value and the marker's flag; an empty cell gives no
  observation at all. Text that is no number (``WTP``) is kept as the note with the flag ``L``.
- In a table of targets (``ranges``: the catalog entry has ``target:``), a range of two numbers
  (``6,0-6,9``, ``0,22-0,18``, ``4.1 – 4.5``, ``6,0 s.d. 6,9``, ``6,0 s/d 6,9``, ``6,0 sampai
  6,9``) reads both ends exactly, in the published order: the reading's fourth item is the
  second end. Each end is read as a single number would be (and fails as one would); a footnote
  mark after the range marks the whole cell. Elsewhere a range is text that is no number.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from harvesters.exceptions import ParseError
from opendata.model import NOT_AVAILABLE

#: what a value cell gives: (value, flag, note), a range's (value, flag, note, value_to), or None
#: for an empty cell (no observation)
Reading = (
    tuple[Decimal | None, str | None, str | None]
    | tuple[Decimal, str | None, str | None, Decimal]
    | None
)

_SPACES = "\u00a0\u202f\u2009 "
_MINUS = "-\u2212"
#: looks like a number: digits with separators, nothing else (these must read, or fail)
# re.escape: written plain in the character class, "+-\u2212" would be a range of letters
_NUMBERISH = re.compile(rf"[+{re.escape(_MINUS)}]?[\d.,{_SPACES}]*\d[\d.,{_SPACES}]*")
_PLAIN = re.compile(r"\d+")
_SIMPLE = {",": re.compile(r"-?\d+(?:,\d+)?"), ".": re.compile(r"-?\d+(?:\.\d+)?")}
_WHOLE = re.compile(r"-?\d+")
_EXPONENT = re.compile(r"\d+(?:\.\d+)?[eE][+-]?\d+")
_GROUPS = {
    ",": re.compile(rf"[1-9]\d{{0,2}}(?:[.{_SPACES}]\d{{3}})+(?:,\d+)?|\d+(?:,\d+)?"),
    ".": re.compile(rf"[1-9]\d{{0,2}}(?:[,{_SPACES}]\d{{3}})+(?:\.\d+)?|\d+(?:\.\d+)?"),
}
#: a footnote mark after a value: ``*``, ``**)``, ``r)``, ``(r)``
_MARK = re.compile(r"(?P<number>.*?\d)\s*(?P<mark>\*+\)?|\(\*+\)|\(?[a-zA-Z]{1,2}\))")
_FORMAT_NOISE = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')
#: one end of a range: digits with separators (a space only between digits), maybe a sign
_END = rf"[+\-\u2212]?\d(?:[\d.,]|[{_SPACES}](?=\d))*"
#: a range of two numbers: a hyphen, an en or em dash, a minus, or the words of "up to"
_RANGE = re.compile(
    rf"(?P<first>{_END})\s*(?:[-\u2012\u2013\u2014\u2212]|s\.\s?d\.?|s/d|sampai(?:\s+dengan)?)"
    rf"\s*(?P<second>{_END})",
    re.IGNORECASE,
)


def text_of(value: object) -> str:
    """A cell as text for names, labels and codes: ``6371.0`` is ``6371``, spacing collapsed."""
    if isinstance(value, str):
        return " ".join(value.split())
    if value is None:
        return ""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    if isinstance(value, date | datetime):
        return value.isoformat()
    return " ".join(str(value).split())


def plain(number: Decimal) -> Decimal:
    """``number`` without an exponent (``1E+3`` is ``1000``), its decimals kept."""
    if number.as_tuple().exponent > 0:  # type: ignore[operator]
        return number.quantize(Decimal(1))
    return number


@lru_cache(maxsize=256)
def format_decimals(number_format: str | None) -> tuple[int, int, bool] | None:
    """(fewest, most) decimals a number format shows, and whether it is a percent; None: any.

    ``0.00`` -> (2, 2), ``#,##0`` -> (0, 0), ``0.0#`` -> (1, 2), ``0.00%`` -> (2, 2, percent);
    ``General``, text (``@``) and scientific formats fix nothing.
    """
    if not number_format:
        return None
    section = _FORMAT_NOISE.sub("", number_format.split(";")[0])
    if section.lower() in ("general", "@", "") or "e+" in section.lower() or "0" not in section:
        return None
    percent = "%" in section
    _, dot, decimals = section.partition(".")
    if not dot:
        return 0, 0, percent
    shown = re.match(r"[0#?]*", decimals).group(0)  # type: ignore[union-attr]
    return shown.count("0"), len(shown), percent


def number_of_cell(value: int | float | Decimal, number_format: str | None) -> Decimal:
    """A spreadsheet's numeric cell as the sheet shows it (see the module doc)."""
    shown = format_decimals(number_format)
    if shown is None and value.__class__ is float and -1e15 < value < 1e15:
        # The common cell of a sheet, at once: a finite float in a General format; below
        # 1e15 its shortest text has no exponent above zero, so plain() has nothing to do.
        return Decimal(int(value)) if value.is_integer() else Decimal(repr(value))
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    else:
        number = Decimal(repr(value))
    if shown is None:
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            return Decimal(int(value))
        return plain(number)
    fewest, most, percent = shown
    if percent:
        number = number.scaleb(2)
    number = number.quantize(Decimal(1).scaleb(-most), rounding=ROUND_HALF_UP)
    while most > fewest and number.as_tuple().digits[-1:] == (0,):
        most -= 1
        number = number.quantize(Decimal(1).scaleb(-most))
    return number


def parse_number(text: str, decimal: str | None) -> tuple[Decimal, str | None] | None:
    """A number written as text, and the decimal mark that decided it; None if it is no number.

    Raises ValueError (saying why) for text that looks like a number but cannot be read
    exactly under ``decimal`` (None: undeclared).
    """
    if decimal and _SIMPLE[decimal].fullmatch(text):  # the common case, at once: 12,5 or -3
        return Decimal(text.replace(decimal, ".")), None
    if not _NUMBERISH.fullmatch(text):
        if _EXPONENT.fullmatch(text.lstrip("+-")) and decimal != ",":
            return Decimal(text.replace("\u2212", "-")), None
        return None
    sign = ""
    if text[0] in "+" + _MINUS:
        sign, text = ("-" if text[0] in _MINUS else ""), text[1:].strip(_SPACES)
    if _PLAIN.fullmatch(text):
        return Decimal(sign + text), None
    marks = (decimal,) if decimal else (",", ".")
    readings = {mark: _read(text, mark) for mark in marks}
    found = {mark: number for mark, number in readings.items() if number is not None}
    if not found:
        raise ValueError(
            f"{text!r} is not a number written with {decimal!r} as the decimal mark"
            if decimal
            else f"{text!r} is not a number"
        )
    if len(set(found.values())) > 1:
        raise ValueError(
            f"{text!r} is ambiguous: {found[',']} if ',' is the decimal mark, {found['.']} if "
            "'.' is; declare table.decimal"
        )
    mark, number = next(iter(found.items()))
    # one reading only: the text shows the table's convention (``1.234.567`` says ",")
    decided = mark if len(found) == 1 and not decimal else None
    return Decimal(sign + str(number)), decided


def _read(text: str, mark: str) -> Decimal | None:
    if not _GROUPS[mark].fullmatch(text):
        return None
    group = "." if mark == "," else ","
    digits = text.replace(group, "")
    for space in _SPACES:
        digits = digits.replace(space, "")
    return Decimal(digits.replace(",", "."))


def _numeric_markers(missing: Mapping[str, str], decimal: str | None) -> dict[Decimal, str]:
    found = {}
    for marker, flag in missing.items():
        try:
            number = parse_number(marker, decimal) if marker and flag else None
        except ValueError:
            number = None
        if number is not None:
            found[number[0]] = flag
    return found


class ValueReader:
    """Reads the value cells of one table, remembering what the undeclared decimal mark is."""

    def __init__(
        self,
        decimal: str | None,
        missing: Mapping[str, str],
        marks: Mapping[str, str],
        ranges: bool = False,
    ):
        self.decimal = decimal
        self.missing = missing
        self.marks = marks
        self.ranges = ranges  #: read ``6,0-6,9`` as a range (a table of targets)
        self.empty_allowed = "" in missing
        #: text read at once: with the decimal declared, what parse_number reads first;
        #: undeclared, whole numbers (``1.5`` has to tell the table's convention)
        self.common_text = (_SIMPLE[decimal] if decimal else _WHOLE).fullmatch
        #: markers that are numbers (``0``, ``0,00``) match numeric cells of that value too
        self.numeric_markers = _numeric_markers(missing, decimal)
        self._seen_mark: tuple[str, str] | None = None  #: (mark, the cell that showed it)
        self.texts = 0  #: cells of text that is no number (kept as notes)
        self.first_text: str | None = None

    def at_once(self, value: object) -> Decimal | None:
        """The number of the common text cell, or None: then :meth:`read` must look closer.

        A table has millions of cells like ``12,5`` or ``-3``: digits, a sign and the declared
        decimal mark, nothing to strip. :meth:`read` would read them the same way (no marker,
        checked here; no footnote mark; the first branch of :func:`parse_number`), only slower.
        """
        if value.__class__ is str and self.common_text(value) and value not in self.missing:
            return Decimal(value.replace(",", "."))  # type: ignore[attr-defined]
        return None

    def read(self, value: object, number_format: str | None, name: Callable[[], str]) -> Reading:
        """Read one value cell; ``name()`` names it in an error."""
        number = self.at_once(value)
        if number is not None:
            return number, None, None
        kind = value.__class__
        if kind is float or kind is int or kind is Decimal:  # a sheet's number, at once too
            return self._number(value, number_format)  # type: ignore[arg-type]
        if value is None or (isinstance(value, str) and not value.strip(_SPACES + "\t\r\n")):
            if self.empty_allowed:
                return None
            raise ParseError(
                f"{name()} is empty; a value cell must hold a number or a marker of table.missing "
                '(add "" to table.missing to read empty cells as no observation)'
            )
        if isinstance(value, bool) or isinstance(value, date | datetime | time):
            raise ParseError(f"{name()} holds {text_of(value)!r}, not a number")
        if isinstance(value, int | float | Decimal):
            return self._number(value, number_format)
        return self._text(" ".join(str(value).split()), name)

    def _number(self, value: int | float | Decimal, number_format: str | None) -> Reading:
        number = number_of_cell(value, number_format)
        if self.numeric_markers:
            flag = self.numeric_markers.get(number)
            if flag is not None:
                return None, flag, None
        return number, None, None

    def _text(self, text: str, name: Callable[[], str]) -> Reading:
        flag = self.missing.get(text.casefold())
        if flag is not None:
            return (None, flag, None) if flag else None
        mark = None
        split = _MARK.fullmatch(text)
        if split:
            text, mark = split.group("number").strip(), split.group("mark").strip("()")
        try:
            number = parse_number(text, self.decimal)
        except ValueError as exc:
            raise ParseError(f"{name()}: {exc}") from None
        if number is None and self.ranges:
            found = self._range(text, name)
            if found is not None:
                first, second = found
                return first, mark, self.marks.get(mark) if mark else None, second
        if number is None:
            self.texts += 1
            if self.first_text is None:
                self.first_text = name()
            full = text if mark is None else split.group(0)  # type: ignore[union-attr]
            return None, NOT_AVAILABLE, full
        value, decided = number
        if decided:
            self._check_mark(decided, name)
        return value, mark, self.marks.get(mark) if mark else None

    def _range(self, text: str, name: Callable[[], str]) -> tuple[Decimal, Decimal] | None:
        """Both ends of a range, in the published order; None if ``text`` is no range."""
        split = _RANGE.fullmatch(text)
        if split is None:
            return None
        ends = []
        for end in ("first", "second"):
            try:
                number = parse_number(split.group(end), self.decimal)
            except ValueError as exc:
                raise ParseError(f"{name()}: the range {text!r}: {exc}") from None
            value, decided = number  # type: ignore[misc]  # an end is digits: never None
            if decided:
                self._check_mark(decided, name)
            ends.append(value)
        return ends[0], ends[1]

    def _check_mark(self, mark: str, name: Callable[[], str]) -> None:
        if self._seen_mark is None:
            self._seen_mark = (mark, name())
        elif self._seen_mark[0] != mark:
            first, where = self._seen_mark
            raise ParseError(
                f"{name()} writes {mark!r} as its decimal mark, but {where} writes {first!r}: "
                "declare table.decimal"
            )
