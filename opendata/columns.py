"""The columns of observations as a table, and the dimension ids that keep them unique.

A CSV of observations has the fixed columns ``dataset, region_code, region_name, period``, then
``<id>_code, <id>`` for each dimension, then ``value, unit, flag, note``; a target set's (its
values may be ranges) has ``value_to`` right after ``value``. A dimension id whose
two columns are a fixed column (``region`` gives ``region_code``; ``value``), or a column of
another dimension (``a`` and ``a_code`` both give ``a_code``), would give a table with the same
column twice, which readers such as ``csv.DictReader`` or pandas read wrongly. The catalog
refuses such an id, a harvester derives another (:func:`unique_id`), and the CSV writer refuses a
header with a column twice as the last line of defence.

Pure and small: the catalog, the harvesters and the formats all read it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

HEAD = ("dataset", "region_code", "region_name", "period")
TAIL = ("value", "unit", "flag", "note")
#: a target set's column after ``value``: the other end of a range; reserved in every dataset
VALUE_TO = "value_to"
FIXED = frozenset((*HEAD, *TAIL, VALUE_TO))
#: what a derived dimension id gets when it would clash (``region`` -> ``region_dim``)
SUFFIX = "_dim"
MAX_ID_LENGTH = 63  #: the catalog's and the store's bound on a dimension id


def columns_of(dimension_id: str) -> tuple[str, str]:
    """Return the two columns of a dimension: its value code and its value label."""
    return f"{dimension_id}_code", dimension_id


def header(dimension_ids: Sequence[str], ranges: bool = False) -> list[str]:
    """Return the columns of a table of observations with these dimensions, in order;
    ``ranges``: with ``value_to`` after ``value`` (a target set)."""
    columns = list(HEAD)
    for dimension_id in dimension_ids:
        columns += columns_of(dimension_id)
    tail = [TAIL[0], VALUE_TO, *TAIL[1:]] if ranges else list(TAIL)
    return columns + tail


def clash(dimension_id: str, others: Iterable[str] = ()) -> str | None:
    """Say why a dimension id would repeat a column (a fixed one, or one of ``others``)."""
    mine = columns_of(dimension_id)
    for column in mine:
        if column in FIXED:
            if column == VALUE_TO:
                return f"its column '{column}' is the CSV column of a target's ranges"
            return f"its column '{column}' is one of the fixed columns ({', '.join(HEAD + TAIL)})"
    for other in others:
        shared = sorted(set(mine) & set(columns_of(other)))
        if shared:
            return f"its column '{shared[0]}' is a column of dimension '{other}' too"
    return None


def unique_id(dimension_id: str, others: Iterable[str] = ()) -> str:
    """Return ``dimension_id``, or where it would clash the first of ``<id>_dim``, ``<id>_dim2``,
    ... that does not (cut to fit :data:`MAX_ID_LENGTH`)."""
    others = list(others)
    candidate, number = dimension_id, 1
    while clash(candidate, others):
        suffix = SUFFIX if number == 1 else f"{SUFFIX}{number}"
        candidate = dimension_id[: MAX_ID_LENGTH - len(suffix)] + suffix
        number += 1
    return candidate


def check_header(columns: Sequence[str]) -> None:
    """Raise ValueError if a column name is there twice."""
    twice = [column for column, count in Counter(columns).items() if count > 1]
    if twice:
        raise ValueError(
            f"the columns {', '.join(columns)} name {', '.join(twice)} twice: a dimension id "
            "clashes with a fixed column or with another dimension's column"
        )
