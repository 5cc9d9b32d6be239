"""The Alembic migrations build exactly the schema the SQLAlchemy models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import backend.crawler.models  # noqa: F401  (every domain's tables on Base.metadata)
import backend.enforcement.models  # noqa: F401
import backend.marketplace.models  # noqa: F401
import backend.registry.models  # noqa: F401
from backend.db import Database
from backend.models import Base


def test_migrations_match_the_models(database_url):
    db = Database(database_url)
    try:
        db.migrate()
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert differences == []
    finally:
        db.dispose()


def test_migrating_twice_changes_nothing(database_url):
    db = Database(database_url)
    try:
        db.migrate()
        db.migrate()
        with db.engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    finally:
        db.dispose()
