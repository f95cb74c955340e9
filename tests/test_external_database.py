"""`CIS_DATABASE_URL` points the whole main job at an existing PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cis.cli import app
from cis.db import Target
from tests.pg import query


def test_demo_runs_end_to_end_on_a_database_named_by_url(target: Target, tmp_path: Path) -> None:
    env = {"CIS_DATABASE_URL": target.url, "CIS_LOADER_URL": "", "CIS_TRANSFORMER_URL": ""}
    result = CliRunner().invoke(
        app, ["demo", "--leads", "300", "--seed", "4", "--out", str(tmp_path / "landing")], env=env
    )
    assert result.exit_code == 0, result.output
    assert "lead collision rate" in result.output
    leads = query(target, "select count(*) from pool.dim_leads")[0][0]
    assert leads == 300
    # Without the embedded server's private roles, everything runs as the URL's user.
    owners = {
        row[0]
        for row in query(
            target,
            "select tableowner from pg_tables where schemaname in ('raw_apollo', 'pool')",
        )
    }
    assert owners == {target.user}
    held = query(
        target, "select count(*) from cis.lead_assignments where assignment_status = 'active'"
    )[0][0]
    assert held > 0
