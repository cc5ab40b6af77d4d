"""observation versions: each revision row says when its values began and if it was a withdrawal

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 22:15:00

A cell's history is its versions: the current one in ``observation`` (valid from
``last_changed_run_id``; a withdrawn cell's current version is the withdrawal), the earlier ones
in ``observation_revision``, each valid from ``valid_from_run_id`` until ``run_id`` (the run that
replaced it). ``withdrawn`` marks a version that was a withdrawal (the cell not served).

Backfill: a revision's ``valid_from_run_id`` is the previous revision's ``run_id`` of the same
cell, or the cell's ``first_seen_run_id``; a cell withdrawn before this migration gets the
revision its withdrawal did not write (its values until the withdrawing run).
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "observation_revision", sa.Column("valid_from_run_id", sa.Integer(), nullable=True)
    )
    op.add_column(
        "observation_revision",
        sa.Column("withdrawn", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT r.id, r.observation_id, r.run_id, o.first_seen_run_id "
            "FROM observation_revision r JOIN observation o ON o.id = r.observation_id "
            "ORDER BY r.observation_id, r.id"
        )
    ).all()
    updates, previous = [], {}
    for revision_id, observation_id, run_id, first_seen in rows:
        updates.append({"id": revision_id, "start": previous.get(observation_id, first_seen)})
        previous[observation_id] = run_id
    if updates:
        conn.execute(
            sa.text("UPDATE observation_revision SET valid_from_run_id = :start WHERE id = :id"),
            updates,
        )
    withdrawn = conn.execute(
        sa.text(
            "SELECT id, first_seen_run_id, withdrawn_run_id, value_text, value_to_text, flag, "
            "note FROM observation WHERE withdrawn_run_id IS NOT NULL"
        )
    ).all()
    inserts = [
        {
            "observation_id": row.id,
            "run_id": row.withdrawn_run_id,
            "start": previous.get(row.id, row.first_seen_run_id),
            "value_text": row.value_text,
            "value_to_text": row.value_to_text,
            "flag": row.flag,
            "note": row.note,
        }
        for row in withdrawn
    ]
    if inserts:
        conn.execute(
            sa.text(
                "INSERT INTO observation_revision (observation_id, run_id, valid_from_run_id, "
                "value_text, value_to_text, flag, note, withdrawn) VALUES (:observation_id, "
                ":run_id, :start, :value_text, :value_to_text, :flag, :note, false)"
            ),
            inserts,
        )


def downgrade() -> None:
    """Back to 0003's revisions: a withdrawal wrote none; a comeback wrote the values it ended.

    So the version a withdrawal ended is the one the comeback ended (its run_id becomes the
    comeback's) and the withdrawal version goes; a cell withdrawn now loses the revision its
    withdrawal wrote. An upgrade again then rebuilds exactly what it builds from a 0003 store.
    """
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT r.id, r.observation_id, r.run_id, r.withdrawn, o.withdrawn_run_id "
            "FROM observation_revision r JOIN observation o ON o.id = r.observation_id "
            "ORDER BY r.observation_id, r.id"
        )
    ).all()
    deleted, moved, previous = [], [], None
    for row in rows:
        if row.withdrawn:
            deleted.append({"id": row.id})
            if previous is not None and previous.observation_id == row.observation_id:
                moved.append({"id": previous.id, "run_id": row.run_id})
        elif row.withdrawn_run_id is not None and row.run_id == row.withdrawn_run_id:
            deleted.append({"id": row.id})
        previous = row
    if moved:
        conn.execute(
            sa.text("UPDATE observation_revision SET run_id = :run_id WHERE id = :id"), moved
        )
    if deleted:
        conn.execute(sa.text("DELETE FROM observation_revision WHERE id = :id"), deleted)
    op.execute("ALTER TABLE observation_revision DROP COLUMN withdrawn")
    op.execute("ALTER TABLE observation_revision DROP COLUMN valid_from_run_id")
