"""The normalized store: tables and their relations (SQLAlchemy Core).

source -> dataset -> indicator -> series -> observation. A *series* is one (indicator, region,
dimension values) combination; its dimension values are rows of ``series_dimension``, so filters
on a dimension join a small table instead of scanning observations. An *observation* is one period
of a series.

Values are stored twice: ``value_text`` is the exact decimal text the source sent (served as is),
``value_num`` a double for sorting and range filters only. SQLAlchemy's ``Numeric`` would go
through REAL on SQLite and lose digits, so it is not used for values.

Nothing is deleted by a harvest. Each harvest states a dataset's whole structure: an indicator,
dimension, dimension value or series that it no longer has gets ``retired_run_id`` (the run that
found it gone) and is no longer served; a cell that it no longer has, in a period it published,
gets ``withdrawn_run_id``. ``observation_revision`` holds a cell's earlier versions: the values
a change or a withdrawal replaced, valid from ``valid_from_run_id`` until ``run_id`` (a
``withdrawn`` one was a withdrawal); the current version, in ``observation``, is valid from
``last_changed_run_id``.

``series.dims_key`` identifies a series by the ids of its dimension values (not their codes or
the dimensions' ids), so a dimension renamed upstream keeps its series and their history.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

#: the Alembic revision these tables are (a test keeps it equal to the newest migration)
SCHEMA_REVISION = "0006"

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

source = Table(
    "source",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("title", Text, nullable=False),
    Column("url", Text),
)

dataset = Table(
    "dataset",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("source_id", ForeignKey("source.id"), nullable=False),
    Column("title_id", Text, nullable=False),
    Column("title_en", Text),
    Column("description_id", Text),
    Column("description_en", Text),
    Column("license", Text),
    Column("attribution", Text),
    Column("frequency", String(20)),
    Column("tags", Text),  # JSON list
    Column("query", Text, nullable=False),  # JSON: the catalog's source section
    Column("source_last_update", DateTime),
    Column("last_run_id", Integer),  # the last harvest run that succeeded
    Column("changed_run_id", Integer),  # the last harvest run that changed its data
    Column("target", Text),  # JSON: the catalog's target section (TargetSpec.to_json), or NULL
)

indicator = Table(
    "indicator",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dataset_id", ForeignKey("dataset.id"), nullable=False),
    Column("code", String(80), nullable=False),
    Column("name", Text, nullable=False),
    Column("unit", Text),
    Column("decimals", Integer),
    Column("definition", Text),
    Column("notes", Text),
    Column("subject", Text),
    Column("source_ref", Text),
    Column("source_last_update", DateTime),
    Column("retired_run_id", Integer),  # the run that no longer had it (not served since)
    UniqueConstraint("dataset_id", "code"),
)

region = Table(
    "region",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("name", Text, nullable=False),
    Column("level", String(16), nullable=False),
    Column("parent_code", String(16), index=True),
    Column("bps_name", Text),
    Column("kemendagri_code", String(16)),
    Column("origin", String(16), nullable=False),  # reference | harvest
    Column("added_run_id", Integer),
)

region_alias = Table(
    "region_alias",
    metadata,
    Column("alias", String(16), primary_key=True),
    Column("system", String(16), primary_key=True),
    Column("code", ForeignKey("region.code"), nullable=False),
)

dimension = Table(
    "dimension",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dataset_id", ForeignKey("dataset.id"), nullable=False),
    Column("slug", String(64), nullable=False),
    Column("label", Text, nullable=False),
    Column("position", Integer, nullable=False),
    Column("retired_run_id", Integer),
    UniqueConstraint("dataset_id", "slug"),
)

dimension_value = Table(
    "dimension_value",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dimension_id", ForeignKey("dimension.id"), nullable=False),
    Column("code", String(64), nullable=False),
    Column("label", Text, nullable=False),
    Column("is_total", Boolean, nullable=False, default=False),
    Column("position", Integer, nullable=False),
    Column("retired_run_id", Integer),
    UniqueConstraint("dimension_id", "code"),
)

series = Table(
    "series",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dataset_id", ForeignKey("dataset.id"), nullable=False),
    Column("indicator_id", ForeignKey("indicator.id"), nullable=False),
    Column("region_code", ForeignKey("region.code"), nullable=False),
    # the ids of its dimension values, ascending, joined by "|" ("" without dimensions)
    Column("dims_key", Text, nullable=False),
    Column("retired_run_id", Integer),
    UniqueConstraint("indicator_id", "region_code", "dims_key"),
    # with id: a region's series in keyset order, so PostgreSQL pages a region without sorting
    Index("ix_series_dataset_region_id", "dataset_id", "region_code", "id"),
)

series_dimension = Table(
    "series_dimension",
    metadata,
    Column("series_id", ForeignKey("series.id"), primary_key=True),
    Column("dimension_id", ForeignKey("dimension.id"), primary_key=True),
    Column("value_id", ForeignKey("dimension_value.id"), nullable=False),
    Index("ix_series_dimension_value", "value_id", "series_id"),
)

observation = Table(
    "observation",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("series_id", ForeignKey("series.id"), nullable=False),
    Column("period", String(10), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("value_text", Text),  # the exact decimal text the source sent, however long
    Column("value_num", Float),  # for sorting and range filters only
    Column("value_to_text", Text),  # a range's other end (targets: "6,0-6,9"), as published
    Column("flag", String(16)),
    Column("note", Text),
    Column("first_seen_run_id", Integer, nullable=False),
    Column("last_changed_run_id", Integer, nullable=False),
    Column("withdrawn_run_id", Integer),
    UniqueConstraint("series_id", "period"),
    Index("ix_observation_series_start", "series_id", "period_start"),
)

observation_revision = Table(
    "observation_revision",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("observation_id", ForeignKey("observation.id"), nullable=False, index=True),
    Column("run_id", Integer, nullable=False),  # the run that replaced these values
    Column("value_text", Text),
    Column("flag", String(16)),
    Column("note", Text),
    Column("value_to_text", Text),
    Column("valid_from_run_id", Integer),  # the run that wrote them (NULL: unknown)
    Column("withdrawn", Boolean, nullable=False, default=False, server_default=false()),
)

raw_payload = Table(
    "raw_payload",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sha256", String(64), nullable=False, unique=True),
    Column("content_type", Text),
    Column("size", Integer, nullable=False),
    Column("body", LargeBinary, nullable=False),  # zlib-compressed
    Column("first_fetched_at", DateTime, nullable=False),
)

fetch = Table(
    "fetch",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", ForeignKey("harvest_run.id"), nullable=False, index=True),
    Column("payload_id", ForeignKey("raw_payload.id"), nullable=False),
    Column("url", Text, nullable=False),  # with secrets masked
    Column("params", Text, nullable=False),  # JSON, secrets removed
    Column("status", Integer, nullable=False),
    Column("fetched_at", DateTime, nullable=False),
)

harvest_run = Table(
    "harvest_run",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("batch", String(32), nullable=False),  # one `opendata harvest` invocation
    Column("dataset_id", String(80), nullable=False, index=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    # running | ok | unchanged | no-data | failed | interrupted
    Column("status", String(16), nullable=False),
    Column("offline", Boolean, nullable=False, default=False),
    Column("added", Integer, nullable=False, default=0),
    Column("changed", Integer, nullable=False, default=0),
    Column("unchanged", Integer, nullable=False, default=0),
    Column("withdrawn", Integer, nullable=False, default=0, server_default="0"),
    Column("error", Text),
    Column("log", Text),  # messages for the operator, one a line
    # what the run parsed: harvester version, catalog entry, region reference, payload hashes
    Column("fingerprint", String(64)),
)

#: the checksum of a dataset's whole download (its CSV with no filter), made by the harvest that
#: changed the data, in its transaction: valid while ``dataset.changed_run_id`` is
#: ``changed_run_id`` and the writer's ``format_version`` is the code's
download = Table(
    "download",
    metadata,
    Column("dataset_id", ForeignKey("dataset.id"), primary_key=True),
    Column("kind", String(20), primary_key=True),  # csv
    Column("format_version", Integer, nullable=False),
    Column("changed_run_id", Integer),
    Column("sha256", String(64), nullable=False),  # hex
    Column("bytes", BigInteger, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("made_at", DateTime, nullable=False),
)

store_meta = Table(
    "store_meta",
    metadata,
    Column("key", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)


# -- search (migration 0006) ---------------------------------------------------------------------

#: One row per served dataset: its texts folded (lowercase, no accents, words split on anything
#: that is not a letter or digit, ``opendata.store.search.fold``), by field for ranking, and
#: ``words``, all of them, which the full-text index matches (SQLite: the FTS5 table
#: ``search_fts``, rowid = ``id``; PostgreSQL: a GIN index on ``to_tsvector('simple', words)``).
search_document = Table(
    "search_document",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dataset_id", ForeignKey("dataset.id"), nullable=False, unique=True),
    Column("title", Text, nullable=False),  # both languages
    Column("tags", Text, nullable=False),
    Column("indicators", Text, nullable=False),  # JSON: the served indicators' names, as named
    Column("indicator_words", Text, nullable=False),  # their names folded, a line each
    Column("body", Text, nullable=False),  # descriptions, indicators' definitions and subjects
    Column("words", Text, nullable=False),
    Column("tag_values", Text, nullable=False),  # its tags as the catalog has them, a line each
    Column("levels", Text, nullable=False),  # the region levels of its served series, a line each
)

#: The vocabulary of the index, with the number of documents that have each term: where a query
#: term that matches nothing finds its correction (a typo), the same way on both stores.
search_term = Table(
    "search_term",
    metadata,
    Column("term", String(64), primary_key=True),
    Column("length", Integer, nullable=False, index=True),
    Column("documents", Integer, nullable=False),
)

#: The full-text objects outside these tables (SQLite's FTS5 table, and the shadow tables SQLite
#: makes for it; PostgreSQL's GIN index) are all named with this prefix.
SEARCH_FTS = "search_fts"


def include_name(name: str | None, _type: str, _parent_names) -> bool:
    """Alembic's filter: compare every table and index but the full-text ones (SEARCH_FTS).

    They are made by migration 0006 in each store's own dialect, which SQLAlchemy's tables
    cannot declare.
    """
    return not (name or "").startswith(SEARCH_FTS)
