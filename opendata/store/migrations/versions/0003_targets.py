"""targets: a dataset's target section, ranges as observation values

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 22:00:00

- ``dataset.target``: the catalog's ``target:`` section as JSON (``TargetSpec.to_json``) for a
  dataset whose figures are plan targets of another dataset's, so the API links the two and
  computes achievement whichever of them was harvested first.
- ``observation.value_to_text`` and ``observation_revision.value_to_text``: the other end of a
  range (a target ``6,0-6,9`` keeps ``6.0`` in ``value_text`` and ``6.9`` here, both as
  published and in the published order); NULL for a single figure.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ADDED = (
    ("dataset", "target"),
    ("observation", "value_to_text"),
    ("observation_revision", "value_to_text"),
)


def upgrade() -> None:
    # Plain ADD COLUMN of a nullable column: no table rebuild on SQLite, no rewrite on PostgreSQL.
    for table, column in ADDED:
        op.add_column(table, sa.Column(column, sa.Text(), nullable=True))


def downgrade() -> None:
    # Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35 and PostgreSQL), as in 0002.
    for table, column in reversed(ADDED):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
