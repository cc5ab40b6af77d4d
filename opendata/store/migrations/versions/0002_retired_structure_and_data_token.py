"""retired structure, series keyed by value ids, withdrawn counts, a data token

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 18:40:00

- ``retired_run_id`` on indicator, dimension, dimension_value and series: a harvest that no
  longer has one of them marks it (never deletes it) and the API stops serving it.
- ``series.dims_key`` becomes the ids of the series' dimension values (ascending, ``|``-joined)
  instead of ``slug=code`` pairs, so a renamed dimension keeps its series.
- ``harvest_run.withdrawn``: how many cells a run found gone.
- ``ix_series_dataset_region`` gains ``id``: a region's series in the keyset order of pages, so
  PostgreSQL pages a one-region dataset without sorting all of its rows.
- ``store_meta``: ``data_token``, a random token renewed with every data version, so that ETags
  and caches never take a restored store's version for the one they cached.
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

RETIRED = ("indicator", "dimension", "dimension_value", "series")


def _rekey_series(conn, by_value_ids: bool) -> None:
    """Rewrite every series' dims_key from its series_dimension rows."""
    rows = conn.execute(
        sa.text(
            "SELECT sd.series_id, d.slug, v.code, v.id FROM series_dimension sd "
            "JOIN dimension d ON d.id = sd.dimension_id "
            "JOIN dimension_value v ON v.id = sd.value_id "
            "ORDER BY sd.series_id, d.position"
        )
    )
    keys: dict[int, list] = {}
    for series_id, slug, code, value_id in rows:
        keys.setdefault(series_id, []).append(value_id if by_value_ids else f"{slug}={code}")
    updates = [
        {
            "id": series_id,
            "key": "|".join(map(str, sorted(parts))) if by_value_ids else "|".join(parts),
        }
        for series_id, parts in keys.items()
    ]
    if updates:
        conn.execute(sa.text("UPDATE series SET dims_key = :key WHERE id = :id"), updates)


def upgrade() -> None:
    for table in RETIRED:
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(sa.Column("retired_run_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("harvest_run") as batch_op:
        batch_op.add_column(
            sa.Column("withdrawn", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("series") as batch_op:
        batch_op.drop_index("ix_series_dataset_region")
        batch_op.create_index(
            "ix_series_dataset_region_id", ["dataset_id", "region_code", "id"], unique=False
        )
    conn = op.get_bind()
    _rekey_series(conn, by_value_ids=True)
    has_token = conn.execute(sa.text("SELECT 1 FROM store_meta WHERE key = 'data_token'")).first()
    if has_token is None:
        conn.execute(
            sa.text("INSERT INTO store_meta (key, value) VALUES ('data_token', :token)"),
            {"token": uuid.uuid4().hex},
        )


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35 and PostgreSQL): a batch operation would
    # rebuild the tables on SQLite, and dropping a table that other rows reference fails while
    # foreign keys are enforced.
    conn = op.get_bind()
    _rekey_series(conn, by_value_ids=False)
    conn.execute(sa.text("DELETE FROM store_meta WHERE key = 'data_token'"))
    op.drop_index("ix_series_dataset_region_id", table_name="series")
    op.create_index("ix_series_dataset_region", "series", ["dataset_id", "region_code"])
    op.execute("ALTER TABLE harvest_run DROP COLUMN withdrawn")
    for table in reversed(RETIRED):
        op.execute(f"ALTER TABLE {table} DROP COLUMN retired_run_id")
