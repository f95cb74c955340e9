"""Running a dlt source against the project's database (the I/O edge of ingestion)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import dlt
from dlt.common.pipeline import LoadInfo

from cis.db import Target, state_dir

# Speed defaults (benchmarks/ingest_speed.py: about 1.6x the rows/s at 10k people): dlt's intermediate files live only
# until the load, so gzip is wasted work, and normalising tables in two processes uses both
# cores. Either can be overridden through dlt's own configuration (env vars or config.toml).
SPEED_DEFAULTS = {"DATA_WRITER__DISABLE_COMPRESSION": "true", "NORMALIZE__WORKERS": "2"}
# dlt keeps a staging copy of each merge load; emptied after the load so that personal data
# lives only in the raw tables, where a deletion request reaches it.
PRIVACY_DEFAULTS = {"LOAD__TRUNCATE_STAGING_DATASET": "true"}


def make_pipeline(name: str, dataset: str, target: Target, pipelines_dir: Path | None = None):
    """A dlt pipeline writing ``dataset`` on ``target``; its state lives under ``.cis/dlt``.

    The pipeline name carries the database so that two databases never share local state.
    """
    for key, value in {**SPEED_DEFAULTS, **PRIVACY_DEFAULTS}.items():
        os.environ.setdefault(key, value)
    where = hashlib.sha1(f"{target.host}:{target.port}/{target.dbname}".encode()).hexdigest()[:8]
    return dlt.pipeline(
        pipeline_name=f"{name}_{target.dbname}_{where}",
        destination=dlt.destinations.postgres(credentials=target.dlt_url),
        dataset_name=dataset,
        pipelines_dir=str(pipelines_dir or state_dir() / "dlt"),
    )


def run_source(
    source, name: str, dataset: str, target: Target, pipelines_dir: Path | None = None
) -> LoadInfo:
    pipeline = make_pipeline(name, dataset, target, pipelines_dir)
    info = pipeline.run(source)
    info.raise_on_failed_jobs()
    return info
