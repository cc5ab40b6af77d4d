"""Query parameter fields that read a value exactly as the OpenAPI spec describes it.

- A value must match whole: Python's ``$`` also matches before a trailing newline, so every
  pattern is checked with ``fullmatch`` (the spec's copy is anchored for JSON Schema's search
  semantics).
- An empty value (``region=``, ``from=``, ``limit=%20``) is never "no filter": it is a 400 that
  says what to give, or to leave the parameter out. Each field documents ``minLength: 1``.
- Integers are ASCII digits only: not ``+5``, `` 5``, ``١٠`` nor ``５``, which Python's ``int()``
  would all read.
"""

from __future__ import annotations

import re
from datetime import UTC
from typing import Any

import marshmallow as ma
from webargs.fields import DelimitedList

from opendata.filters import FilterError, empty_message, split_codes

_DIGITS = re.compile(r"[0-9]+")
#: more digits than any integer parameter needs: read as "too large", never parsed
_MAX_DIGITS = 18


class Text(ma.fields.String):
    """A non-blank text; with ``pattern``, one that matches it whole.

    ``give`` says what to give (``a period, e.g. 2024``); ``error`` is the message of a value
    that does not match.
    """

    def __init__(self, *, give: str, pattern: str | None = None, error: str = "", **kwargs):
        metadata = {"minLength": 1, **kwargs.pop("metadata", {})}
        if pattern:
            metadata["pattern"] = f"^{pattern}$"
        super().__init__(metadata=metadata, **kwargs)
        self.give = give
        self.regex = re.compile(pattern) if pattern else None
        self.error = error

    def _deserialize(self, value: Any, attr, data, **kwargs) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not text.strip():
            raise ma.ValidationError(empty_message(self.data_key or attr, self.give))
        if self.regex and not self.regex.fullmatch(text):
            raise ma.ValidationError(self.error)
        return text


class Codes(DelimitedList):
    """Comma-separated codes, none of them empty (``region=6371,`` is a 400 too).

    Spaces around a code are ignored. In the spec: an array of at least one item, each item a
    code (no comma, not blank).
    """

    def __init__(self, *, give: str, **kwargs):
        item = ma.fields.String(metadata={"pattern": r"^[^,]*[^\s,][^,]*$"})
        metadata = {"minItems": 1, **kwargs.pop("metadata", {})}
        super().__init__(item, metadata=metadata, **kwargs)
        self.give = give

    def _deserialize(self, value: Any, attr, data, **kwargs) -> list[str]:
        param = self.data_key or attr
        try:
            return split_codes([value] if isinstance(value, str) else value, param, self.give)
        except FilterError as exc:
            raise ma.ValidationError(exc.message) from None


class Choices(Codes):
    """Comma-separated values, each one of ``choices``; an unknown one is a 400 naming them.
    In the spec: an array whose items are an enum."""

    def __init__(self, *, choices, what: str, **kwargs):
        super().__init__(**kwargs)
        self.choices = tuple(choices)
        self.what = what
        self.inner = ma.fields.String(
            validate=ma.validate.OneOf(self.choices), metadata={"pattern": r"^[^,]*[^\s,][^,]*$"}
        )

    def _deserialize(self, value, attr, data, **kwargs) -> list[str]:
        values = super()._deserialize(value, attr, data, **kwargs)
        unknown = [item for item in values if item not in self.choices]
        if unknown:
            raise ma.ValidationError(
                f"unknown {self.what} {', '.join(map(repr, unknown))}; "
                f"give one or more of: {', '.join(self.choices)}"
            )
        return values


class Count(ma.fields.Integer):
    """A whole number written in ASCII digits only, at least ``minimum``."""

    def __init__(self, *, give: str, minimum: int = 1, **kwargs):
        super().__init__(validate=ma.validate.Range(min=minimum), strict=False, **kwargs)
        self.give = give

    def _deserialize(self, value: Any, attr, data, **kwargs) -> int:
        param = self.data_key or attr
        if isinstance(value, str) and not value.strip():
            raise ma.ValidationError(empty_message(param, self.give))
        if not isinstance(value, str) or not _DIGITS.fullmatch(value):
            raise ma.ValidationError(f"not a whole number in ASCII digits (0-9); give {self.give}")
        # Past _MAX_DIGITS the value is "too large" for any check, and is not parsed at all.
        return int(value) if len(value) <= _MAX_DIGITS else 10**_MAX_DIGITS


class UtcTime(ma.fields.DateTime):
    """An instant as RFC 3339 in UTC with ``Z``: ``2026-11-29T12:25:33.065803Z``.

    The stores keep naive UTC times: a naive value is UTC (never the server's local time).
    """

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
