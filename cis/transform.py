"""Running dbt (``dbt build`` and friends) against the project's database."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from cis.db import Target, dbt_env, project_root
from ingestion.pipeline import pipeline_lock

# dbt commands that only read: they never wait for the build lock.
READ_ONLY_COMMANDS = frozenset({"compile", "debug", "deps", "docs", "list", "ls", "parse", "show"})
BUILD_LOCK = "dbt-build"


class DbtFailed(RuntimeError):
    """dbt exited non-zero; its own output says which node failed."""


def dbt_command(
    args: Sequence[str], target: Target, quiet: bool = False, work_dir: Path | None = None
) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run ``dbt <args>`` against ``target``."""
    root = project_root()
    env = {**os.environ, **dbt_env(target), "DBT_PROFILES_DIR": str(root)}
    if work_dir is not None:
        env["DBT_TARGET_PATH"] = str(work_dir / "target")
        env["DBT_LOG_PATH"] = str(work_dir / "logs")
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    # The marts sort and hash millions of event rows: PostgreSQL's 4 MB default sends them to
    # disk. A session setting of the build's own connections (PGOPTIONS is read by libpq).
    env.setdefault("PGOPTIONS", "-c work_mem=64MB")
    if not sys.stdout.isatty():
        env.setdefault("DBT_USE_COLORS", "false")  # plain text in logs and pipes
    # -W: dbt's own entry module warns about being imported twice; harmless.
    command = [sys.executable, "-W", "ignore::RuntimeWarning", "-m", "dbt.cli.main"]
    command += ["--quiet", *args] if quiet else list(args)
    return command, env


def run_dbt(
    args: Sequence[str],
    target: Target,
    quiet: bool = False,
    work_dir: Path | None = None,
    on_wait: Callable[[], None] | None = None,
) -> None:
    """Run ``dbt <args>`` from the repo root with ``profiles.yml`` pointed at ``target``.

    dbt runs in a child process: its logging and global state stay out of ours. ``work_dir``
    keeps dbt's target/ and logs/ apart (tests build several databases side by side). A command
    that writes (build, run, seed ...) holds the database's build lock while it runs: two
    builds at once would create and swap the same tables, so the second waits (``on_wait`` is
    called once when it has to).
    """
    command, env = dbt_command(args, target, quiet, work_dir)
    writes = not args or args[0] not in READ_ONLY_COMMANDS
    with pipeline_lock(target, BUILD_LOCK, on_wait) if writes else contextlib.nullcontext():
        result = subprocess.run(command, cwd=project_root(), env=env, check=False)
    if result.returncode != 0:
        raise DbtFailed(f"dbt {' '.join(args)} failed (exit {result.returncode})")
