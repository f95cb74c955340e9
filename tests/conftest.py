"""Shared fixtures: one embedded PostgreSQL per test session, a fresh database per test."""

from __future__ import annotations

import pytest

from cis.bootstrap import bootstrap
from cis.db import Target
from tests.pg import embedded_server, fresh_database


@pytest.fixture
def database(request: pytest.FixtureRequest) -> Target:
    """A new, bootstrapped database for one test (roles, cis schema, row-level security)."""
    target = fresh_database(embedded_server(), f"t_{request.node.name}")
    bootstrap(target)
    return target
