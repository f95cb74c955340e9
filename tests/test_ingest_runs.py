"""Loads that overlap or follow a crash: the lock, pending packages and the working folder."""

from __future__ import annotations

import json
import stat
import threading
from pathlib import Path

from cis.db import Target
from ingestion.apollo import DATASET, LANDING_KIND, LoadCounts, apollo_landing_source
from ingestion.pipeline import make_pipeline, run_source
from tests.apollo_server import contract_people
from tests.pg import query


def _folder(root: Path, people: list[dict], prefix: str) -> Path:
    folder = root / LANDING_KIND
    folder.mkdir(parents=True)
    lines = [
        json.dumps({**p, "id": f"{prefix}{i:04d}", "email": None}) for i, p in enumerate(people)
    ]
    (folder / "people.jsonl").write_text("\n".join(lines) + "\n")
    return root


def _people(count: int) -> list[dict]:
    contract = contract_people()
    return [contract[i % len(contract)] for i in range(count)]


def test_two_loads_at_once_both_complete(tmp_path: Path, target: Target) -> None:
    folders = [_folder(tmp_path / f"l{n}", _people(40), f"run{n}-") for n in range(3)]
    waited: list[int] = []
    errors: list[BaseException] = []

    def load(n: int) -> None:
        try:
            source = apollo_landing_source(str(folders[n]), counts=LoadCounts())
            run_source(
                source,
                "apollo_landing",
                DATASET,
                target,
                tmp_path / "dlt",
                on_wait=lambda: waited.append(n),
            )
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=load, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert query(target, f"select count(*) from {DATASET}.people") == [(120,)]
    assert waited, "the later loads waited for the lock"


def test_a_pending_package_is_finished_and_the_asked_folder_loaded(
    tmp_path: Path, target: Target
) -> None:
    crashed = _folder(tmp_path / "crashed", _people(25), "crashed-")
    asked = _folder(tmp_path / "asked", _people(55), "asked-")
    # A run that extracted and normalised, then died before loading.
    pipeline = make_pipeline("apollo_landing", DATASET, target, tmp_path / "dlt")
    pipeline.extract(apollo_landing_source(str(crashed), counts=LoadCounts()))
    pipeline.normalize()
    assert pipeline.has_pending_data

    counts = LoadCounts()
    run_source(
        apollo_landing_source(str(asked), counts=counts),
        "apollo_landing",
        DATASET,
        target,
        tmp_path / "dlt",
    )

    ids = [row[0] for row in query(target, f"select id from {DATASET}.people")]
    assert sum(i.startswith("crashed-") for i in ids) == 25
    assert sum(i.startswith("asked-") for i in ids) == 55
    assert counts.people == 55


def test_the_working_folder_is_private_and_keeps_no_loaded_data(
    tmp_path: Path, target: Target
) -> None:
    folder = _folder(tmp_path / "landing", _people(10), "p-")
    run_source(
        apollo_landing_source(str(folder), counts=LoadCounts()),
        "apollo_landing",
        DATASET,
        target,
        tmp_path / "dlt",
    )

    state = tmp_path / "dlt"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    files = [p for p in state.rglob("*") if p.is_file()]
    assert files
    assert all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in files)
    leftovers = [p for p in files if "Natarajan" in p.read_text(errors="ignore")]
    assert leftovers == []
