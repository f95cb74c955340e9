"""Running a dlt source against the project's database (the I/O edge of ingestion).

One pipeline run at a time per pipeline and database (a PostgreSQL advisory lock); a run first
finishes what a crashed run left pending, then loads what it was asked to; the working folder
is private to the user (0700/0600) and keeps no personal data once a load has completed.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import dlt
from dlt.common.pipeline import LoadInfo

from cis.db import Target, connect, state_dir

# Speed defaults (benchmarks/ingest_speed.py: about 1.6x the rows/s at 10k people): dlt's intermediate files live only
# until the load, so gzip is wasted work, and normalising tables in two processes uses both
# cores. Either can be overridden through dlt's own configuration (env vars or config.toml).
SPEED_DEFAULTS = {"DATA_WRITER__DISABLE_COMPRESSION": "true", "NORMALIZE__WORKERS": "2"}
# dlt keeps a staging copy of each merge load and the files of each completed package; both
# are emptied once loaded, so personal data lives only in the raw tables, where a deletion
# request reaches it.
# Arrow tables (the events' fast path) get dlt's load id too, as every other row does: what a
# load stored is counted by it.
ARROW_DEFAULTS = {"NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "true"}
PRIVACY_DEFAULTS = {
    "LOAD__TRUNCATE_STAGING_DATASET": "true",
    "LOAD__DELETE_COMPLETED_JOBS": "true",
}


class _KnownHintNotice(logging.Filter):
    """dlt warns that an Arrow column's type differs from its hint: intended on the Arrow/COPY
    path (JSON text with a json hint becomes jsonb; the documented columns keep their declared
    types), so the notice is dropped rather than printed on every load."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "several column hints were different" not in record.getMessage()


logging.getLogger("dlt").addFilter(_KnownHintNotice())


def pipeline_name(name: str, target: Target) -> str:
    """The pipeline's name on ``target``: two databases never share local state."""
    where = hashlib.sha1(f"{target.host}:{target.port}/{target.dbname}".encode()).hexdigest()[:8]
    return f"{name}_{target.dbname}_{where}"


def make_pipeline(name: str, dataset: str, target: Target, pipelines_dir: Path | None = None):
    """A dlt pipeline writing ``dataset`` on ``target``; its state lives under ``.cis/dlt``."""
    for key, value in {**SPEED_DEFAULTS, **ARROW_DEFAULTS, **PRIVACY_DEFAULTS}.items():
        os.environ.setdefault(key, value)
    folder = private_folder(pipelines_dir or state_dir() / "dlt")
    return dlt.pipeline(
        pipeline_name=pipeline_name(name, target),
        destination=dlt.destinations.postgres(credentials=target.dlt_url),
        dataset_name=dataset,
        pipelines_dir=str(folder),
    )


def private_folder(folder: Path) -> Path:
    """``folder``, created if needed and readable by its owner only."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    return folder


def finish_pending(pipeline) -> list[str]:
    """Load what a crashed run of ``pipeline`` left pending; the ids of the loads it completed."""
    if not pipeline.has_pending_data:
        return []
    pipeline.normalize()
    info = pipeline.load()
    info.raise_on_failed_jobs()
    shutil.rmtree(Path(pipeline.working_dir) / "load" / "loaded", ignore_errors=True)
    return list(info.loads_ids)


def finish_pending_runs(
    names: list[str], dataset: str, target: Target, pipelines_dir: Path | None = None
) -> list[str]:
    """Finish the pending loads of the named pipelines (the caller holds the dataset's lock).

    Only pipelines that have a working folder are looked at; the ids of the completed loads
    are returned.
    """
    folder = pipelines_dir or state_dir() / "dlt"
    load_ids: list[str] = []
    previous_umask = os.umask(0o077)
    try:
        for name in names:
            if (folder / pipeline_name(name, target)).is_dir():
                load_ids += finish_pending(make_pipeline(name, dataset, target, pipelines_dir))
    finally:
        os.umask(previous_umask)
    return load_ids


def files_naming(folder: Path, needles: list[str], named_in: Callable[[str], bool]) -> list[Path]:
    """Files under ``folder`` (symlinks not followed) whose text names one of ``needles``.

    ``needles`` are lower-case strings that make a file a candidate; ``named_in`` decides on
    its text (decoded leniently, so a pickle or a binary file is read too).
    """
    if not needles or not folder.is_dir():
        return []
    found = []
    for directory, _dirs, files in os.walk(folder):
        for name in files:
            path = Path(directory) / name
            if path.is_symlink() or not path.is_file():
                continue
            text = path.read_bytes().decode("utf-8", "replace")
            lowered = text.lower()
            if any(n in lowered for n in needles) and named_in(text):
                found.append(path)
    return sorted(found)


def dataset_lock_name(dataset: str, target: Target) -> str:
    """The lock every writer of ``dataset`` on ``target``'s database holds (see pipeline_lock)."""
    return f"{dataset}@{target.dbname}"


@contextlib.contextmanager
def pipeline_lock(
    target: Target, name: str, on_wait: Callable[[], None] | None = None
) -> Iterator[None]:
    """Hold the advisory lock ``name`` on ``target``'s database while inside.

    A second run of the same pipeline waits for the first (``on_wait`` is called once, so the
    caller can say so) instead of sharing its working folder and tables.
    """
    key = int.from_bytes(hashlib.sha256(f"cis-pipeline:{name}".encode()).digest()[:8], "big")
    key -= 1 << 63  # a signed bigint
    connection = connect(target)
    try:
        with connection.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(%s)", (key,))
            if not cur.fetchone()[0]:
                if on_wait is not None:
                    on_wait()
                cur.execute("select pg_advisory_lock(%s)", (key,))
        yield
    finally:
        connection.close()  # ends the session, which releases the lock


def run_source(
    source,
    name: str,
    dataset: str,
    target: Target,
    pipelines_dir: Path | None = None,
    on_wait: Callable[[], None] | None = None,
    after_load: Callable[[list[str]], None] | None = None,
    before_run: Callable[[], None] | None = None,
) -> LoadInfo:
    """Run ``source`` under the pipeline's lock and return the info of the load it asked for.

    A package left pending by a crashed run is loaded first (dlt's ``run`` would load it and
    skip the new data), then ``before_run`` is called, then ``source`` is extracted and loaded.
    ``after_load`` is called, still under the lock, with the ids of every load this run
    completed (the pending one included).
    """
    previous_umask = os.umask(0o077)
    try:
        # One lock per dataset: the landing and the API pipelines merge into the same tables.
        with pipeline_lock(target, dataset_lock_name(dataset, target), on_wait):
            pipeline = make_pipeline(name, dataset, target, pipelines_dir)
            load_ids = finish_pending(pipeline)
            if before_run is not None:
                before_run()
            info = pipeline.run(source)
            info.raise_on_failed_jobs()
            if after_load is not None:
                after_load(load_ids + list(info.loads_ids))
            shutil.rmtree(Path(pipeline.working_dir) / "load" / "loaded", ignore_errors=True)
            return info
    finally:
        os.umask(previous_umask)
