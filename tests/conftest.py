"""Shared fixtures: one embedded PostgreSQL per test session, a fresh database per test."""

from __future__ import annotations

import pytest

from cis.db import Target
from tests.pg import embedded_server, fresh_database


@pytest.fixture
def target(request: pytest.FixtureRequest) -> Target:
    """A new, empty database for one test, named after the test."""
    return fresh_database(embedded_server(), request.node.nodeid)
