"""The backend's fixtures (database on SQLite and PostgreSQL, anvil, settings, services), plus a
migrated database and a real SMTP server for the enforcement tests."""

from __future__ import annotations

import pytest

from backend.db import Database
from tests.backend.conftest import (  # noqa: F401  (fixtures shared with the backend tests)
    anvil,
    chain,
    database_url,
    deployment_file,
    free_port,
    postgres_url,
    pytest_generate_tests,
    services,
    settings,
)
from tests.enforcement.smtp import SmtpServer


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
