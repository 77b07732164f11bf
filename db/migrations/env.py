"""Alembic environment: always run on a connection handed over by db.database."""

from alembic import context

from db.models import Base

config = context.config
connection = config.attributes["connection"]

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,
    transaction_per_migration=True,
    compare_type=True,
)

with context.begin_transaction():
    context.run_migrations()
