"""The store's only writer: regions, payloads, runs and one dataset's harvest in a transaction.

Every function takes a ``Connection`` inside the caller's transaction; the runner decides what
commits together. Nothing here deletes data: a cell missing from a new harvest keeps its row.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError

from harvesters.base import Dimension, Indicator, ParseResult
from opendata.catalog import DatasetSpec
from opendata.periods import parse_period
from opendata.regions import RegionIndex
from opendata.store import schema as t


class WriteError(Exception):
    """Records that cannot be stored as they are (a duplicate cell, an unknown region)."""


@dataclass
class WriteCounts:
    """What one dataset's write did to its observations."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    metadata_changed: bool = False

    @property
    def data_changed(self) -> bool:
        return bool(self.added or self.changed or self.metadata_changed)


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
    """Advance the store's data version (the API's ETags and caches key on it)."""
    version = int(get_meta(conn, "data_version") or 0) + 1
    set_meta(conn, "data_version", str(version))
    return version


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
            "source_last_update": last_update,
        },
    )
    return source_changed or changed


def _write_indicators(conn, dataset_id: str, indicators: Iterable[Indicator]):
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
            },
        )
        changed = changed or row_changed
    return ids, changed


def _write_dimensions(conn, dataset_id: str, dimensions: Sequence[Dimension]):
    """Upsert dimensions and values; return {slug: dimension id}, {(slug, code): value id}."""
    dim_ids, value_ids, changed = {}, {}, False
    for position, dim in enumerate(dimensions):
        dim_ids[dim.id], row_changed = _upsert(
            conn,
            t.dimension,
            {"dataset_id": dataset_id, "slug": dim.id},
            {"label": dim.label, "position": position},
        )
        changed = changed or row_changed
        for value_position, value in enumerate(dim.values):
            value_ids[dim.id, value.code], value_changed = _upsert(
                conn,
                t.dimension_value,
                {"dimension_id": dim_ids[dim.id], "code": value.code},
                {"label": value.label, "is_total": value.is_total, "position": value_position},
            )
            changed = changed or value_changed
    return dim_ids, value_ids, changed


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


def dims_key(dimensions: tuple[tuple[str, str], ...]) -> str:
    """The canonical text of a series' dimension values: ``slug=code|slug=code``."""
    return "|".join(f"{slug}={code}" for slug, code in dimensions)


def _series_ids(conn, dataset_id: str) -> dict[tuple[int, str, str], int]:
    query = select(
        t.series.c.indicator_id, t.series.c.region_code, t.series.c.dims_key, t.series.c.id
    ).where(t.series.c.dataset_id == dataset_id)
    return {(row[0], row[1], row[2]): row[3] for row in conn.execute(query)}


def _write_series(conn, dataset_id, records, indicator_ids, dim_ids, value_ids) -> dict:
    """Create the series the records need; return {(indicator code, region, dims): series id}."""
    wanted: dict[tuple, tuple] = {}
    for record in records:
        key = (record.indicator, record.region, record.dimensions)
        if key not in wanted:
            wanted[key] = (indicator_ids[record.indicator], record.region, dims_key(key[2]))
    existing = _series_ids(conn, dataset_id)
    missing = {k: v for k, v in wanted.items() if v not in existing}
    if missing:
        conn.execute(
            insert(t.series),
            [
                {"dataset_id": dataset_id, "indicator_id": i, "region_code": r, "dims_key": d}
                for i, r, d in missing.values()
            ],
        )
        existing = _series_ids(conn, dataset_id)
        links = [
            {
                "series_id": existing[ids],
                "dimension_id": dim_ids[slug],
                "value_id": value_ids[slug, code],
            }
            for key, ids in missing.items()
            for slug, code in key[2]
        ]
        if links:
            conn.execute(insert(t.series_dimension), links)
    return {key: existing[ids] for key, ids in wanted.items()}


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
        )
        .join(t.series, t.series.c.id == t.observation.c.series_id)
        .where(t.series.c.dataset_id == dataset_id)
    )
    return {(row[0], row[1]): row[2:] for row in conn.execute(query)}


def _same_value(old: str | None, new: Decimal | None, new_text: str | None) -> bool:
    if old == new_text:
        return True
    if old is None or new is None:
        return False
    return Decimal(old) == new  # 7.1 and 7.10 are the same figure


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
            twice.append(f"{indicator}/{region}/{period} {dims_key(dims) or '(no dimensions)'}")
        seen.add(key)
    return twice


def _insert_all(conn, records, series_ids, run_id) -> WriteCounts:
    """A dataset's first harvest: every cell is new; the unique index catches duplicates."""
    bounds = _PeriodBounds(conn)
    rows = []
    append = rows.append
    # The hot loop of a first harvest (one pass per cell): locals and unpacking on purpose.
    for indicator, region, period, dims, value, flag, note in records:
        start, end = bounds[period]
        text, number = (None, None) if value is None else _exact(value)
        append(
            (series_ids[indicator, region, dims], period, start, end, text, number, flag, note)
            + (run_id, run_id)
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


def _write_observations(conn, dataset_id, records, series_ids, run_id) -> WriteCounts:
    """Insert new cells, update changed ones (keeping what they replace), count the rest."""
    existing = _existing_observations(conn, dataset_id)
    if not existing:
        return _insert_all(conn, records, series_ids, run_id)
    counts = WriteCounts()
    bounds = _PeriodBounds(conn)
    seen: set[tuple[int, str]] = set()
    inserts, updates, revisions = [], [], []
    # The hot loop of a harvest (one pass per cell): locals and tuple unpacking on purpose.
    for indicator, region, period, dims, value, flag, note in records:
        series_id = series_ids[indicator, region, dims]
        key = (series_id, period)
        if key in seen:
            raise WriteError(
                f"two cells for {indicator}/{region}/{period} {dims_key(dims) or '(no dimensions)'}"
            )
        seen.add(key)
        text, number = (None, None) if value is None else _exact(value)
        old = existing.get(key)
        if old is None:
            start, end = bounds[period]
            inserts.append(
                (series_id, period, start, end, text, number, flag, note, run_id, run_id)
            )
            continue
        obs_id, old_text, old_flag, old_note, withdrawn = old
        if (
            _same_value(old_text, value, text)
            and old_flag == flag
            and old_note == note
            and withdrawn is None
        ):
            counts.unchanged += 1
            continue
        updates.append(
            {
                "b_id": obs_id,
                "value_text": text,
                "value_num": number,
                "flag": flag,
                "note": note,
                "last_changed_run_id": run_id,
                "withdrawn_run_id": None,
            }
        )
        revisions.append(
            {
                "observation_id": obs_id,
                "run_id": run_id,
                "value_text": old_text,
                "flag": old_flag,
                "note": old_note,
            }
        )
    if inserts:
        _insert_observations(conn, inserts)
    if updates:
        conn.execute(
            update(t.observation)
            .where(t.observation.c.id == bindparam("b_id"))
            .values(
                value_text=bindparam("value_text"),
                value_num=bindparam("value_num"),
                flag=bindparam("flag"),
                note=bindparam("note"),
                last_changed_run_id=bindparam("last_changed_run_id"),
                withdrawn_run_id=bindparam("withdrawn_run_id"),
            ),
            updates,
        )
        conn.execute(insert(t.observation_revision), revisions)
    counts.added = len(inserts)
    counts.changed = len(updates)
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
    added to the store and to the set.
    """
    last_update = max(
        (_naive(i.source_last_update) for i in result.indicators if i.source_last_update),
        default=None,
    )
    meta_changed = _write_dataset_row(conn, spec, (source_title, source_url), last_update)
    indicator_ids, indicators_changed = _write_indicators(conn, spec.id, result.indicators)
    dim_ids, value_ids, dims_changed = _write_dimensions(conn, spec.id, result.dimensions)
    regions_changed = _write_regions(conn, result, known_regions, run_id)
    unknown = sorted({r.region for r in result.records} - known_regions)
    if unknown:
        raise WriteError(f"records name regions the store does not know: {', '.join(unknown[:10])}")
    missing = sorted({r.indicator for r in result.records} - indicator_ids.keys())
    if missing:
        raise WriteError(f"records name indicators the payload did not describe: {missing[:10]}")
    for record in result.records:
        for slug, code in record.dimensions:
            if (slug, code) not in value_ids:
                raise WriteError(f"records use the undeclared dimension value {slug}={code}")
    series_ids = _write_series(conn, spec.id, result.records, indicator_ids, dim_ids, value_ids)
    counts = _write_observations(conn, spec.id, result.records, series_ids, run_id)
    counts.metadata_changed = meta_changed or indicators_changed or dims_changed or regions_changed
    values: dict[str, Any] = {"last_run_id": run_id}
    if counts.data_changed:
        values["changed_run_id"] = run_id
        bump_data_version(conn)
    conn.execute(update(t.dataset).where(t.dataset.c.id == spec.id).values(**values))
    return counts
