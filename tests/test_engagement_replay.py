"""Replaying the same landing files, twice, in another order, or with some lines arriving late
(after a build, repeated and out of order), gives identical engagement and content marts:
nothing in them depends on the order or the number of times files arrive, and an incremental
build after late events equals a build of everything at once."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cis.db import Target
from cis.generate import generate_landing
from cis.generate.late_events import EVENT_KINDS, fingerprints, hold_back
from cis.jobs.ingest import ingest_landing
from tests.event_builds import build_models, client_database


def build(target: Target, loads: list[list[Path]], work: Path) -> dict[str, tuple[int, str]]:
    """Load each group of folders in turn, building the project after each group."""
    for folders in loads:
        for folder in folders:
            ingest_landing(target, folder, pipelines_dir=work / "dlt")
        build_models(target, work / "dbt")
    return fingerprints(target)


def split_events(landing: Path, later: Path) -> int:
    """Move every other event file (by name) to the same path under ``later``."""
    moved = 0
    for kind in EVENT_KINDS:
        for number, path in enumerate(sorted((landing / kind).rglob("*.jsonl"))):
            if number % 2 == 0:
                continue
            target = later / path.relative_to(landing)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(path, target)
            moved += 1
    return moved


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A generated landing folder, and a folder of lines held back from it to arrive late: 5%
    of every event file's lines plus second deliveries of 1% of the rest, shuffled."""
    root = tmp_path_factory.mktemp("replay")
    generate_landing(root / "landing", 250, seed=5, events=True)
    assert hold_back(root / "landing", root / "late", share=0.05, seed=5) > 0
    return root / "landing", root / "late"


@pytest.fixture(scope="module")
def once(landing: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The marts of everything loaded at once, then built: what every other order must give."""
    now, late = landing
    built = build(client_database("replay_once"), [[now, late]], tmp_path_factory.mktemp("once"))
    assert all(rows > 0 for rows, _digest in built.values())
    return built


def test_replaying_twice_or_in_another_order_gives_identical_marts(
    landing: tuple[Path, Path], once: dict, tmp_path: Path
) -> None:
    now, late = landing

    # The same files loaded twice: the second load reads nothing new and changes nothing.
    twice = build(client_database("replay_twice"), [[now, late, now, late]], tmp_path / "twice")
    assert twice == once

    # Half the event files first, then the Apollo pulls with the other half, from copies in
    # other folders: other file paths, other load order, same lines.
    first, second = tmp_path / "first", tmp_path / "second"
    shutil.copytree(now, second)
    shutil.copytree(late, tmp_path / "second-late")
    assert split_events(second, first) > 0
    reordered = build(
        client_database("replay_reordered"),
        [[first, second, tmp_path / "second-late"]],
        tmp_path / "reordered",
    )
    assert reordered == once


def test_an_incremental_build_after_late_events_equals_a_build_from_scratch(
    landing: tuple[Path, Path], once: dict, tmp_path: Path
) -> None:
    now, late = landing
    at_once = once
    # Built after the first files, then again (incrementally) after the late lines, repeated
    # and out of order, arrive.
    target = client_database("late_incremental")
    incremental = build(target, [[now], [late]], tmp_path / "incremental")
    assert incremental == at_once
