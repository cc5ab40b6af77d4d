"""download checksums: the SHA-256, size and row count of each dataset's whole CSV

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:50:00

Made by the harvest that changes a dataset's data, in its transaction; a store upgraded from
0004 has none until each dataset's next harvest (an unchanged one makes a missing one).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "download",
        sa.Column("dataset_id", sa.String(length=80), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("format_version", sa.Integer(), nullable=False),
        sa.Column("changed_run_id", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("made_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name=op.f("fk_download_dataset_id_dataset")
        ),
        sa.PrimaryKeyConstraint("dataset_id", "kind", name=op.f("pk_download")),
    )


def downgrade() -> None:
    op.drop_table("download")
