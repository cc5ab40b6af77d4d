"""search index: a search document per dataset, its full-text index, and the vocabulary

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:00:00

- ``search_document``: one row per served dataset, its texts folded by field
  (``opendata.store.search``), and ``words``, all of them, which the full-text index matches.
- The full-text index, in each store's own way: on SQLite the FTS5 table ``search_fts`` (one
  column, ``words``; rowid = ``search_document.id``; ``unicode61 remove_diacritics 2``, which
  folds what :func:`fold` has not; ``detail=none``: the search needs no word positions); on
  PostgreSQL the GIN index ``search_fts_words`` on ``to_tsvector('simple', words)``.
- ``search_term``: the vocabulary, for correcting a word that matches nothing.

Backfill: every dataset of the store is indexed (``search.reindex``), so a store harvested
before this revision is searchable at once.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset_id", sa.String(length=80), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("indicators", sa.Text(), nullable=False),
        sa.Column("indicator_words", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("words", sa.Text(), nullable=False),
        sa.Column("tag_values", sa.Text(), nullable=False),
        sa.Column("levels", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["dataset.id"], name="fk_search_document_dataset_id_dataset"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_search_document"),
        sa.UniqueConstraint("dataset_id", name="uq_search_document_dataset_id"),
    )
    op.create_table(
        "search_term",
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("term", name="pk_search_term"),
    )
    op.create_index("ix_search_term_length", "search_term", ["length"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE search_fts USING fts5(words, "
            "tokenize = 'unicode61 remove_diacritics 2', detail = none)"
        )
    else:
        op.execute(
            "CREATE INDEX search_fts_words ON search_document "
            "USING gin (to_tsvector('simple', words))"
        )
    from opendata.store.search import reindex

    reindex(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE search_fts")
    else:
        op.execute("DROP INDEX search_fts_words")
    op.drop_index("ix_search_term_length", table_name="search_term")
    op.drop_table("search_term")
    op.drop_table("search_document")
