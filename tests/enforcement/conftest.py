"""The backend's fixtures (database, anvil, settings, services), plus a migrated database and a
real SMTP server for the enforcement tests.

Every test runs on SQLite; those marked `postgres` (the outbox's claims, the ladder end to end,
the killed escalation: where the database's locking and types matter) run on PostgreSQL too when
COPYTRACK_TEST_DATABASE_URL is set, which keeps the suite's added time small.
"""

from __future__ import annotations

import pytest

from backend.db import Database
from tests.backend.conftest import (  # noqa: F401  (fixtures shared with the backend tests)
    PG_URL,
    anvil,
    chain,
    database_url,
    deployment_file,
    free_port,
    postgres_url,
    services,
    settings,
)
from tests.enforcement.smtp import SmtpServer


def pytest_generate_tests(metafunc):
    if "database_kind" in metafunc.fixturenames:
        both = PG_URL and metafunc.definition.get_closest_marker("postgres") is not None
        metafunc.parametrize("database_kind", ["sqlite", "postgresql"] if both else ["sqlite"], scope="session")


@pytest.fixture
def database(database_url):
    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def smtp():
    with SmtpServer(free_port()) as server:
        yield server
