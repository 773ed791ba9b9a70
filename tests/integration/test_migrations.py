"""The migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from db.models import Base


def test_the_migrated_database_matches_the_models(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


def test_migrations_also_build_the_embedded_sqlite_schema(tmp_path):
    from sqlalchemy import create_engine, inspect

    from db.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'herald.db'}"
    upgrade(url)
    tables = set(inspect(create_engine(url)).get_table_names())
    assert {t.name for t in Base.metadata.sorted_tables} <= tables
