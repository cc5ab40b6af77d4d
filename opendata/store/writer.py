"""The store's only writer: regions, payloads, runs and one dataset's harvest in a transaction.

Every function takes a ``Connection`` inside the caller's transaction; the runner decides what
commits together. Nothing here deletes data.

A harvest states a dataset's whole structure. What it no longer has is marked, kept, and no
longer served: indicators, dimensions and dimension values get ``retired_run_id``, and so does
every series they no longer describe; a cell missing in a period that the harvest published
(for other cells) gets ``withdrawn_run_id``. Cells of periods it did not publish at all (years
the catalog no longer asks for, a year the source has no data for) are out of its scope and
stay as they are. A dimension keeps its identity (its row, its series, their history) when
upstream renames its id or label but keeps its value codes.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Integer, String, Table, bindparam, cast, insert, select, update
from sqlalchemy.exc import IntegrityError

from opendata.model import DatasetSpec, Dimension, Indicator, ParseResult
from opendata.periods import parse_period
from opendata.regions import RegionIndex
from opendata.store import downloads, search
from opendata.store import schema as t


class WriteError(Exception):
    """Records that cannot be stored as they are (a duplicate cell, an unknown region)."""


@dataclass
class WriteCounts:
    """What one dataset's write did to its observations."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    withdrawn: int = 0
    metadata_changed: bool = False
    #: what changed in the dataset's structure, for the run log (a dimension renamed, retired)
    messages: list[str] = field(default_factory=list)

    @property
    def data_changed(self) -> bool:
        return bool(self.added or self.changed or self.withdrawn or self.metadata_changed)


def _naive(moment: datetime) -> datetime:
    """A timestamp as naive UTC (aware ones are converted)."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


# -- store metadata -----------------------------------------------------------------------------


def get_meta(conn: Connection, key: str) -> str | None:
    return conn.execute(select(t.store_meta.c.value).where(t.store_meta.c.key == key)).scalar()


def set_meta(conn: Connection, key: str, value: str) -> None:
    if get_meta(conn, key) is None:
        conn.execute(insert(t.store_meta).values(key=key, value=value))
    else:
        conn.execute(update(t.store_meta).where(t.store_meta.c.key == key).values(value=value))


def bump_data_version(conn: Connection) -> int:
    """Advance the store's data version (the API's ETags and caches key on it).

    One atomic ``UPDATE ... SET value = value + 1``: two transactions that bump it never get the
    same number (on PostgreSQL the second waits for the first's row lock, then adds to what it
    committed). The random ``data_token`` renewed with it tells this version from one of the
    same number that a restored backup and another harvest may produce.
    """
    meta = t.store_meta
    version = conn.execute(
        update(meta)
        .where(meta.c.key == "data_version")
        .values(value=cast(cast(meta.c.value, Integer) + 1, String))
        .returning(meta.c.value)
    ).scalar()
    if version is None:  # a store made before any version (or emptied by a test)
        version = "1"
        conn.execute(insert(meta).values(key="data_version", value=version))
    set_meta(conn, "data_token", uuid.uuid4().hex)
    return int(version)


# -- regions ------------------------------------------------------------------------------------


def sync_regions(conn: Connection, index: RegionIndex) -> bool:
    """Bring the store's reference regions and aliases in line with ``index``.

    Cheap when nothing changed: a checksum of the reference is kept in ``store_meta``.
    Regions that harvests added are left alone.
    """
    rows = [
        {
            "code": r.code,
            "name": r.name,
            "level": r.level,
            "parent_code": r.parent,
            "bps_name": r.bps_name,
            "kemendagri_code": r.kemendagri_code,
            "origin": "reference",
        }
        for r in index
    ]
    aliases = [{"alias": a.alias, "system": a.system, "code": a.code} for a in index.aliases]
    checksum = hashlib.sha256(
        json.dumps([rows, aliases], sort_keys=True).encode("utf-8")
    ).hexdigest()
    if get_meta(conn, "regions_checksum") == checksum:
        return False
    existing = {row.code: row for row in conn.execute(select(t.region))}
    new_rows, updated = [], False
    for row in rows:
        old = existing.get(row["code"])
        if old is None:
            new_rows.append(row)
        elif any(getattr(old, k) != v for k, v in row.items()):
            conn.execute(update(t.region).where(t.region.c.code == row["code"]).values(**row))
            updated = True
    if new_rows:
        conn.execute(insert(t.region), new_rows)
    have = {(a.alias, a.system) for a in conn.execute(select(t.region_alias))}
    conn.execute(t.region_alias.delete())
    if aliases:
        conn.execute(insert(t.region_alias), aliases)
    set_meta(conn, "regions_checksum", checksum)
    if new_rows or updated or have != {(a["alias"], a["system"]) for a in aliases}:
        bump_data_version(conn)  # names and codes are served: caches and ETags must move
        downloads.forget_all(conn)  # and every download's bytes may have changed
    return True


def load_region_index(conn: Connection, reference: RegionIndex | None = None) -> RegionIndex:
    """The reference plus the regions harvests added to the store (districts, new regencies)."""
    from opendata.regions import RegionInfo

    reference = reference or RegionIndex.reference()
    added = [
        RegionInfo(r.code, r.name, r.level, r.parent_code, r.bps_name, r.kemendagri_code)
        for r in conn.execute(select(t.region).where(t.region.c.origin == "harvest"))
    ]
    return reference.with_regions(added) if added else reference


# -- one dataset --------------------------------------------------------------------------------


def _upsert(
    conn: Connection, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]
) -> tuple[Any, bool]:
    """Insert or update the row identified by ``key``; return its primary key and if it changed."""
    where = [table.c[k] == v for k, v in key.items()]
    row = conn.execute(select(table).where(*where)).first()
    if row is None:
        result = conn.execute(insert(table).values(**key, **values))
        return result.inserted_primary_key[0], True
    pk = row[0]
    changes = {k: v for k, v in values.items() if getattr(row, k) != v}
    if changes:
        conn.execute(update(table).where(*where).values(**changes))
    return pk, bool(changes)


def _write_dataset_row(conn, spec: DatasetSpec, source: tuple[str, str | None], last_update):
    title, url = source
    _, source_changed = _upsert(conn, t.source, {"id": spec.source}, {"title": title, "url": url})
    _, changed = _upsert(
        conn,
        t.dataset,
        {"id": spec.id},
        {
            "source_id": spec.source,
            "title_id": spec.title["id"],
            "title_en": spec.title.get("en"),
            "description_id": spec.description.get("id"),
            "description_en": spec.description.get("en"),
            "license": spec.license,
            "attribution": spec.attribution,
            "frequency": spec.frequency,
            "tags": json.dumps(list(spec.tags)),
            "query": json.dumps(dict(spec.query), sort_keys=True, default=str),
            "target": None
            if spec.target is None
            else json.dumps(spec.target.to_json(), sort_keys=True),
            "source_last_update": last_update,
        },
    )
    return source_changed or changed


def _retire_others(conn, table: Table, scope, kept: Iterable[int], run_id: int, *columns):
    """Retire the rows of ``scope`` still served but not ``kept``; return them with ``columns``."""
    gone = conn.execute(
        select(table.c.id, *columns).where(
            scope, table.c.retired_run_id.is_(None), table.c.id.not_in(list(kept))
        )
    ).all()
    if gone:
        conn.execute(
            update(table)
            .where(table.c.id.in_([row.id for row in gone]))
            .values(retired_run_id=run_id)
        )
    return gone


def _write_indicators(conn, dataset_id: str, indicators: Iterable[Indicator], run_id, messages):
    """Upsert the harvest's indicators, retire the others; return {code: id} and if any changed."""
    ids, changed = {}, False
    for ind in indicators:
        ids[ind.code], row_changed = _upsert(
            conn,
            t.indicator,
            {"dataset_id": dataset_id, "code": ind.code},
            {
                "name": ind.name,
                "unit": ind.unit,
                "decimals": ind.decimals,
                "definition": ind.definition,
                "notes": ind.notes,
                "subject": ind.subject,
                "source_ref": ind.source_ref,
                "source_last_update": (
                    _naive(ind.source_last_update) if ind.source_last_update else None
                ),
                "retired_run_id": None,
            },
        )
        changed = changed or row_changed
    i = t.indicator
    gone = _retire_others(conn, i, i.c.dataset_id == dataset_id, ids.values(), run_id, i.c.code)
    messages.extend(f"indicator {row.code} is no longer published: retired" for row in gone)
    return ids, changed or bool(gone)


def _values_key(values: Iterable[tuple[str, str]]) -> frozenset[tuple[str, str]]:
    """What a dimension's values are, for telling a rename: codes with their labels, as text."""
    return frozenset((code, " ".join(label.split()).casefold()) for code, label in values)


def _existing_dimensions(conn, dataset_id: str) -> list[tuple[Any, frozenset]]:
    """The dataset's dimension rows, each with the :func:`_values_key` of its served values."""
    d, v = t.dimension, t.dimension_value
    rows = conn.execute(select(d).where(d.c.dataset_id == dataset_id).order_by(d.c.id)).all()
    values: dict[int, list[tuple[str, str]]] = {row.id: [] for row in rows}
    for dimension_id, code, label in conn.execute(
        select(v.c.dimension_id, v.c.code, v.c.label).where(
            v.c.dimension_id.in_(list(values)), v.c.retired_run_id.is_(None)
        )
    ):
        values[dimension_id].append((code, label))
    return [(row, _values_key(values[row.id])) for row in rows]


def _match_dimensions(existing, dimensions: Sequence[Dimension]) -> dict[int, Any]:
    """{position in ``dimensions``: the existing row it continues}.

    A dimension continues the row of the same id. Failing that, it continues a served row whose
    values (codes and labels) are exactly its own, when that is unambiguous: one such row among
    those not matched, and one such dimension among the harvest's. Upstream then renamed the
    dimension, not its values. Anything less (other labels, two candidates, a retired row) makes
    a new dimension: a breakdown that merely reuses codes 1, 2, 3 never inherits another's
    figures.
    """
    by_slug = {row.slug: row for row, _values in existing}
    matched = {i: by_slug[dim.id] for i, dim in enumerate(dimensions) if dim.id in by_slug}
    used = {row.id for row in matched.values()}
    rows: dict[frozenset, list] = {}
    for row, values in existing:
        if row.id not in used and row.retired_run_id is None:
            rows.setdefault(values, []).append(row)
    new: dict[frozenset, list[int]] = {}
    for i, dim in enumerate(dimensions):
        if i not in matched:
            key = _values_key((value.code, value.label) for value in dim.values)
            new.setdefault(key, []).append(i)
    for key, positions in new.items():
        if len(positions) == 1 and len(rows.get(key, ())) == 1:
            matched[positions[0]] = rows[key][0]
    return matched


def _write_dimension_values(conn, dimension_id: int, dim: Dimension, run_id: int, messages):
    """Upsert a dimension's values, retire the others; return {code: id} and if any changed."""
    ids, changed = {}, False
    for position, value in enumerate(dim.values):
        ids[value.code], value_changed = _upsert(
            conn,
            t.dimension_value,
            {"dimension_id": dimension_id, "code": value.code},
            {
                "label": value.label,
                "is_total": value.is_total,
                "position": position,
                "retired_run_id": None,
            },
        )
        changed = changed or value_changed
    v = t.dimension_value
    scope = v.c.dimension_id == dimension_id
    gone = _retire_others(conn, v, scope, ids.values(), run_id, v.c.code, v.c.label)
    messages.extend(
        f"dimension {dim.id}: value {row.code} ({row.label}) is no longer published: retired"
        for row in gone
    )
    return ids, changed or bool(gone)


def _write_dimensions(conn, dataset_id: str, dimensions: Sequence[Dimension], run_id, messages):
    """Write the harvest's dimensions and values, retire the others.

    Return {dimension id: row id}, {(dimension id, value code): value row id}, and if anything
    changed.
    """
    existing = _existing_dimensions(conn, dataset_id)
    matched = _match_dimensions(existing, dimensions)
    dim_ids, value_ids, changed = {}, {}, False
    for position, dim in enumerate(dimensions):
        row = matched.get(position)
        values = {"slug": dim.id, "label": dim.label, "position": position, "retired_run_id": None}
        if row is None:
            dim_ids[dim.id] = conn.execute(
                insert(t.dimension).values(dataset_id=dataset_id, **values)
            ).inserted_primary_key[0]
            changed = True
        else:
            dim_ids[dim.id] = row.id
            changes = {k: v for k, v in values.items() if getattr(row, k) != v}
            if changes:
                conn.execute(update(t.dimension).where(t.dimension.c.id == row.id).values(changes))
                changed = True
            if row.slug != dim.id:
                messages.append(
                    f"dimension {row.slug!r} is now {dim.id!r} ({dim.label}): same values, "
                    "so its series and their history are kept"
                )
        codes, values_changed = _write_dimension_values(
            conn, dim_ids[dim.id], dim, run_id, messages
        )
        value_ids.update(((dim.id, code), value_id) for code, value_id in codes.items())
        changed = changed or values_changed
    d = t.dimension
    gone = _retire_others(
        conn, d, d.c.dataset_id == dataset_id, dim_ids.values(), run_id, d.c.slug, d.c.label
    )
    messages.extend(
        f"dimension {row.slug!r} ({row.label}) is no longer published: retired" for row in gone
    )
    return dim_ids, value_ids, changed or bool(gone)


def _write_regions(conn, result: ParseResult, known: set[str], run_id: int) -> bool:
    new = [r for r in result.regions if r.code not in known]
    if new:
        conn.execute(
            insert(t.region),
            [
                {
                    "code": r.code,
                    "name": r.name,
                    "level": r.level,
                    "parent_code": r.parent,
                    "origin": "harvest",
                    "added_run_id": run_id,
                }
                for r in new
            ],
        )
        known.update(r.code for r in new)
    return bool(new)


def dims_key(value_ids: Iterable[int]) -> str:
    """A series' dimension key: the ids of its dimension values, ascending, ``|``-joined.

    Ids, not codes or dimension ids: a dimension renamed upstream keeps its rows, so its series
    keep their key.
    """
    return "|".join(str(i) for i in sorted(value_ids))


def _describe(dims: tuple[tuple[str, str], ...]) -> str:
    return "|".join(f"{slug}={code}" for slug, code in dims) or "(no dimensions)"


def _series_rows(conn, dataset_id: str) -> dict[tuple[int, str, str], tuple[int, Any]]:
    """{(indicator id, region, dims key): (series id, retired run id)} of a dataset."""
    s = t.series
    query = select(s.c.indicator_id, s.c.region_code, s.c.dims_key, s.c.id, s.c.retired_run_id)
    return {
        (row[0], row[1], row[2]): (row[3], row[4])
        for row in conn.execute(query.where(s.c.dataset_id == dataset_id))
    }


class _Structure:
    """What a harvest says a dataset is made of (row ids), to tell which series it still has."""

    def __init__(self, indicator_ids: dict[str, int], dim_ids: dict[str, int], value_ids: dict):
        self.indicator_ids = indicator_ids
        self.dim_ids = dim_ids
        self.value_ids = value_ids  #: {(dimension id, value code): value row id}
        self._indicators = set(indicator_ids.values())
        self._values = set(value_ids.values())

    def describes(self, indicator_id: int, key: str) -> bool:
        """Whether a series of this indicator and dims key is still part of the dataset."""
        if indicator_id not in self._indicators:
            return False
        values = [int(v) for v in key.split("|")] if key else []
        return len(values) == len(self.dim_ids) and all(v in self._values for v in values)


def _write_series(conn, dataset_id, records, structure: _Structure, run_id, messages):
    """Create the series the records need, revive or retire the others.

    Return {(indicator code, region, dims): series id}, the ids of the series still served, and
    whether any series was retired or revived.
    A series is retired when the harvest's structure no longer describes it (its indicator, one
    of its dimension values or one of its dimensions is gone, or a dimension was added); one
    that is merely absent from the records stays (its cells are withdrawn where the harvest
    covered their period).
    """
    wanted: dict[tuple, tuple] = {}
    for record in records:
        key = (record.indicator, record.region, record.dimensions)
        if key not in wanted:
            ids = (structure.value_ids[pair] for pair in record.dimensions)
            wanted[key] = (structure.indicator_ids[record.indicator], record.region, dims_key(ids))
    existing = _series_rows(conn, dataset_id)
    missing = {k: v for k, v in wanted.items() if v not in existing}
    wanted_keys = set(wanted.values())
    revived = [sid for k, (sid, retired) in existing.items() if retired and k in wanted_keys]
    stale = [
        sid
        for (indicator_id, _region, key), (sid, retired) in existing.items()
        if retired is None and not structure.describes(indicator_id, key)
    ]
    if revived:
        conn.execute(update(t.series).where(t.series.c.id.in_(revived)).values(retired_run_id=None))
    if stale:
        conn.execute(update(t.series).where(t.series.c.id.in_(stale)).values(retired_run_id=run_id))
        messages.append(
            f"{len(stale)} series no longer in the source's structure: retired (kept, not served)"
        )
    if missing:
        conn.execute(
            insert(t.series),
            [
                {"dataset_id": dataset_id, "indicator_id": i, "region_code": r, "dims_key": d}
                for i, r, d in missing.values()
            ],
        )
        existing = _series_rows(conn, dataset_id)
        links = [
            {
                "series_id": existing[ids][0],
                "dimension_id": structure.dim_ids[slug],
                "value_id": structure.value_ids[slug, code],
            }
            for key, ids in missing.items()
            for slug, code in key[2]
        ]
        if links:
            conn.execute(insert(t.series_dimension), links)
    stale_ids = set(stale)
    served = {
        sid
        for sid, retired in existing.values()
        if (retired is None or sid in revived) and sid not in stale_ids
    }
    series_ids = {key: existing[ids][0] for key, ids in wanted.items()}
    return series_ids, served, bool(stale or revived)


def _existing_observations(conn, dataset_id: str) -> dict:
    query = (
        select(
            t.observation.c.series_id,
            t.observation.c.period,
            t.observation.c.id,
            t.observation.c.value_text,
            t.observation.c.flag,
            t.observation.c.note,
            t.observation.c.withdrawn_run_id,
            t.observation.c.value_to_text,
            t.observation.c.last_changed_run_id,
        )
        .join(t.series, t.series.c.id == t.observation.c.series_id)
        .where(t.series.c.dataset_id == dataset_id)
    )
    return {(row[0], row[1]): row[2:] for row in conn.execute(query)}


_OBSERVATION_COLUMNS = (
    "series_id",
    "period",
    "period_start",
    "period_end",
    "value_text",
    "value_num",
    "flag",
    "note",
    "first_seen_run_id",
    "last_changed_run_id",
    "value_to_text",
)


def _insert_observations(conn: Connection, rows: list[tuple]) -> None:
    """Insert observation rows (tuples in ``_OBSERVATION_COLUMNS`` order) in one executemany.

    The hot path of a first harvest: the rows go to the driver as they are (dates already
    converted by the column type's own bind processor), skipping per-row statement processing.
    """
    marks = {"qmark": "?", "numeric": ":{}", "named": ":{}"}.get(conn.dialect.paramstyle, "%s")
    placeholders = ", ".join(
        marks.format(name) if "{}" in marks else marks for name in _OBSERVATION_COLUMNS
    )
    sql = (
        f"INSERT INTO {t.observation.name} ({', '.join(_OBSERVATION_COLUMNS)}) "
        f"VALUES ({placeholders})"
    )
    if "{}" in marks:
        conn.exec_driver_sql(sql, [dict(zip(_OBSERVATION_COLUMNS, r, strict=True)) for r in rows])
    else:
        conn.exec_driver_sql(sql, rows)


class _PeriodBounds(dict):
    """period text -> (start, end) as the driver takes them; each period parsed once."""

    def __init__(self, conn: Connection):
        super().__init__()
        date_type = t.observation.c.period_start.type.dialect_impl(conn.dialect)
        self.process = date_type.bind_processor(conn.dialect) or (lambda d: d)

    def __missing__(self, text: str) -> tuple[Any, Any]:
        period = parse_period(text)
        found = self[text] = (self.process(period.start), self.process(period.end))
        return found


#: no statistic needs more: it keeps value_num a finite double and the text a sane length
MAX_EXPONENT = 300


def _exact(value: Decimal) -> tuple[str, float]:
    """The exact positional text of a value, and the double for sorting."""
    if not value.is_finite() or abs(value.adjusted()) > MAX_EXPONENT:
        raise WriteError(
            f"the value {value} is not a figure a statistic can have "
            f"(a finite number within 1E-{MAX_EXPONENT} .. 1E+{MAX_EXPONENT})"
        )
    text = str(value)
    if "E" in text:  # 1E+5 -> 100000: positional text, every digit kept
        text = format(value, "f")
    return text, float(text)  # float(Decimal) would format the decimal once more


def _duplicates(records: Sequence, series_ids: Mapping) -> list[str]:
    seen, twice = set(), []
    for indicator, region, period, dims, *_ in records:
        key = (series_ids[indicator, region, dims], period)
        if key in seen:
            twice.append(f"{indicator}/{region}/{period} {_describe(dims)}")
        seen.add(key)
    return twice


def _insert_all(conn, records, series_ids, run_id) -> WriteCounts:
    """A dataset's first harvest: every cell is new; the unique index catches duplicates."""
    bounds = _PeriodBounds(conn)
    rows = []
    append = rows.append
    # The hot loop of a first harvest (one pass per cell): locals and unpacking on purpose.
    for indicator, region, period, dims, value, flag, note, value_to in records:
        start, end = bounds[period]
        text, number = (None, None) if value is None else _exact(value)
        append(
            (series_ids[indicator, region, dims], period, start, end, text, number, flag, note)
            + (run_id, run_id, None if value_to is None else _exact(value_to)[0])
        )
    try:
        _insert_observations(conn, rows)
    except IntegrityError:
        twice = _duplicates(records, series_ids)
        if not twice:
            raise
        raise WriteError(
            f"two cells for {twice[0]}"
            + (f" (and {len(twice) - 1} more)" if len(twice) > 1 else "")
        ) from None
    return WriteCounts(added=len(rows))


def _withdraw(conn, existing: Mapping, seen: set, served: set[int], periods: set[str], run_id):
    """Mark withdrawn the served cells the harvest lacks in the periods it published; count them.

    The version a withdrawal ends is kept as a revision, like the one a change replaces.
    """
    gone = [
        (key, old)
        for key, old in existing.items()
        if old[4] is None and key[1] in periods and key[0] in served and key not in seen
    ]
    if gone:
        conn.execute(
            insert(t.observation_revision),
            [_revision(old, run_id) for _, old in gone],
        )
    gone = [
        {"b_id": old[0], "withdrawn_run_id": run_id, "last_changed_run_id": run_id}
        for _, old in gone
    ]
    if gone:
        conn.execute(
            update(t.observation)
            .where(t.observation.c.id == bindparam("b_id"))
            .values(
                withdrawn_run_id=bindparam("withdrawn_run_id"),
                last_changed_run_id=bindparam("last_changed_run_id"),
            ),
            gone,
        )
    return len(gone)


def _revision(old: tuple, run_id: int) -> dict:
    """The revision row of a cell's version (``_existing_observations``' tuple) that ``run_id``
    ends: its values, valid from the run that wrote them; a withdrawal if it was one."""
    obs_id, text, flag, note, withdrawn, to_text, since = old
    return {
        "observation_id": obs_id,
        "run_id": run_id,
        "valid_from_run_id": since,
        "withdrawn": withdrawn is not None,
        "value_text": text,
        "value_to_text": to_text,
        "flag": flag,
        "note": note,
    }


def _write_observations(conn, dataset_id, records, series_ids, served, run_id) -> WriteCounts:
    """Insert new cells, update changed ones (keeping what they replace), withdraw lost ones.

    A value is unchanged only if its text is: a source that re-publishes ``7.1`` as ``7.10``
    changed the number of decimals it publishes, and the served text follows.
    """
    existing = _existing_observations(conn, dataset_id)
    if not existing:
        return _insert_all(conn, records, series_ids, run_id)
    counts = WriteCounts()
    bounds = _PeriodBounds(conn)
    seen: set[tuple[int, str]] = set()
    inserts, updates, revisions = [], [], []
    comebacks = 0
    # The hot loop of a harvest (one pass per cell): locals and tuple unpacking on purpose.
    for indicator, region, period, dims, value, flag, note, value_to in records:
        series_id = series_ids[indicator, region, dims]
        key = (series_id, period)
        if key in seen:
            raise WriteError(f"two cells for {indicator}/{region}/{period} {_describe(dims)}")
        seen.add(key)
        text, number = (None, None) if value is None else _exact(value)
        to_text = None if value_to is None else _exact(value_to)[0]
        old = existing.get(key)
        if old is None:
            start, end = bounds[period]
            inserts.append(
                (series_id, period, start, end, text, number, flag, note, run_id, run_id, to_text)
            )
            continue
        obs_id, old_text, old_flag, old_note, withdrawn, old_to, _ = old
        if (
            old_text == text
            and old_to == to_text
            and old_flag == flag
            and old_note == note
            and withdrawn is None
        ):
            counts.unchanged += 1
            continue
        if withdrawn is not None:  # a withdrawn cell that comes back is added again, as
            comebacks += 1  # updated_after reports it (its row is updated all the same)
        updates.append(
            {
                "b_id": obs_id,
                "value_text": text,
                "value_num": number,
                "value_to_text": to_text,
                "flag": flag,
                "note": note,
                "last_changed_run_id": run_id,
                "withdrawn_run_id": None,
            }
        )
        revisions.append(_revision(old, run_id))
    if inserts:
        _insert_observations(conn, inserts)
    if updates:
        conn.execute(
            update(t.observation)
            .where(t.observation.c.id == bindparam("b_id"))
            .values(
                value_text=bindparam("value_text"),
                value_num=bindparam("value_num"),
                value_to_text=bindparam("value_to_text"),
                flag=bindparam("flag"),
                note=bindparam("note"),
                last_changed_run_id=bindparam("last_changed_run_id"),
                withdrawn_run_id=bindparam("withdrawn_run_id"),
            ),
            updates,
        )
        conn.execute(insert(t.observation_revision), revisions)
    periods = {record[2] for record in records}
    counts.withdrawn = _withdraw(conn, existing, seen, served, periods, run_id)
    counts.added = len(inserts) + comebacks
    counts.changed = len(updates) - comebacks
    return counts


def write_dataset(
    conn: Connection,
    spec: DatasetSpec,
    source_title: str,
    result: ParseResult,
    run_id: int,
    known_regions: set[str],
    source_url: str | None = None,
) -> WriteCounts:
    """Store one dataset's parse result in the caller's transaction; nothing is deleted.

    ``known_regions`` holds the region codes already in the store; new ones of the result are
    added to the store and to the set. What the result no longer has is retired or withdrawn
    (see the module's docstring); the counts' ``messages`` say what, for the run log.
    """
    last_update = max(
        (_naive(i.source_last_update) for i in result.indicators if i.source_last_update),
        default=None,
    )
    messages: list[str] = []
    meta_changed = _write_dataset_row(conn, spec, (source_title, source_url), last_update)
    indicator_ids, indicators_changed = _write_indicators(
        conn, spec.id, result.indicators, run_id, messages
    )
    dim_ids, value_ids, dims_changed = _write_dimensions(
        conn, spec.id, result.dimensions, run_id, messages
    )
    regions_changed = _write_regions(conn, result, known_regions, run_id)
    unknown = sorted({r.region for r in result.records} - known_regions)
    if unknown:
        raise WriteError(f"records name regions the store does not know: {', '.join(unknown[:10])}")
    missing = sorted({r.indicator for r in result.records} - indicator_ids.keys())
    if missing:
        raise WriteError(f"records name indicators the payload did not describe: {missing[:10]}")
    _check_dimensions(result)
    structure = _Structure(indicator_ids, dim_ids, value_ids)
    series_ids, served, series_changed = _write_series(
        conn, spec.id, result.records, structure, run_id, messages
    )
    counts = _write_observations(conn, spec.id, result.records, series_ids, served, run_id)
    counts.metadata_changed = (
        meta_changed or indicators_changed or dims_changed or regions_changed or series_changed
    )
    counts.messages = messages
    if counts.withdrawn:
        messages.append(
            f"{counts.withdrawn} cells the source no longer publishes: withdrawn (kept, not served)"
        )
    values: dict[str, Any] = {"last_run_id": run_id}
    if counts.data_changed:
        values["changed_run_id"] = run_id
        bump_data_version(conn)
    conn.execute(update(t.dataset).where(t.dataset.c.id == spec.id).values(**values))
    if counts.data_changed or not search.is_indexed(conn, spec.id):
        search.index_dataset(conn, spec.id)  # its titles, tags, indicators, levels: searchable
    return counts


def _check_dimensions(result: ParseResult) -> None:
    """Every record gives each of the result's dimensions a declared value, in their order."""
    order = tuple(dim.id for dim in result.dimensions)
    declared = {(dim.id, value.code) for dim in result.dimensions for value in dim.values}
    checked = set()
    for record in result.records:
        dims = record.dimensions
        if dims in checked:
            continue
        if tuple(slug for slug, _code in dims) != order:
            raise WriteError(
                f"a record of {record.indicator}/{record.region}/{record.period} gives the "
                f"dimensions {_describe(dims)}; the result declares {', '.join(order) or 'none'}"
            )
        for pair in dims:
            if pair not in declared:
                raise WriteError(f"records use the undeclared dimension value {pair[0]}={pair[1]}")
        checked.add(dims)
