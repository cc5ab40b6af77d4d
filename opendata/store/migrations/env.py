"""Alembic environment: migrations run on the engine the caller hands over."""

from alembic import context

from opendata.store.schema import include_name, metadata

engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,  # the full-text index, made in each dialect's own way
    )
    with context.begin_transaction():
        context.run_migrations()
