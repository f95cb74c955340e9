"""Shared fixtures: one embedded PostgreSQL per test session, a fresh database per test."""

from __future__ import annotations

import pytest

from cis.db import Target
from tests.pg import embedded_server, fresh_database

# The files that take minutes, slowest first: handed out before the rest (pytest-xdist gives
# each worker whole files in collection order), so the two workers finish together.
SLOW_FILES = (
    "test_pool_db.py",
    "test_engagement_incremental.py",
    "test_forget_everything.py",
    "test_thread_marts.py",
    "test_build_safety.py",
    "test_validate_one.py",
    "test_engagement_marts.py",
    "test_external_database.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: position for position, name in enumerate(SLOW_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(SLOW_FILES)))


@pytest.fixture
def target(request: pytest.FixtureRequest) -> Target:
    """A new, empty database for one test, named after the test."""
    return fresh_database(embedded_server(), request.node.nodeid)
