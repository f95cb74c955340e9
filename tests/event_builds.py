"""What the tests of the event marts share: a fresh database with the project's roles and the
demo clients, and a dbt build of the models and seeds only (their data and unit tests run in
test_engagement_marts; these tests compare what the marts hold)."""

from __future__ import annotations

from pathlib import Path

from cis.bootstrap import bootstrap
from cis.clients import load_clients
from cis.db import Target, transformer_target
from cis.generate.events import DEFAULT_CLIENTS
from cis.jobs.clients_sync import sync_clients
from cis.transform import run_dbt
from tests.pg import embedded_server, fresh_database

# The dbt unit tests need no data: they run once, in test_engagement_marts' `built` fixture.
DATA_TESTED = ["build", "--quiet", "--exclude-resource-type", "unit_test"]
MODELS_ONLY = [*DATA_TESTED, "--exclude-resource-type", "test"]


def client_database(name: str) -> Target:
    """A fresh database ``name`` with the project's roles and schemas and the demo clients."""
    target = fresh_database(embedded_server(), name)
    bootstrap(target)
    sync_clients(target, load_clients(DEFAULT_CLIENTS))
    return target


def build_models(target: Target, work: Path) -> None:
    """``dbt build`` of the models and seeds, as the transformer, in ``work``."""
    run_dbt(MODELS_ONLY, transformer_target(target), work_dir=work)
