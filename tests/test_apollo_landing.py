"""The Apollo landing source: ``apollo/people/*.jsonl`` files into a real PostgreSQL.

The contract people (``tests/fixtures/apollo_people_contract.jsonl``, a copy of the shared
``apollo__person.jsonl``) must arrive with every field; bad input must end up in
``raw_apollo.rejected_records`` with its reason, file and line while good lines still load.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cis.db import Target
from cis.privacy import identity_hashes
from ingestion.apollo import LANDING_KIND, LoadCounts, apollo_landing_source
from ingestion.pipeline import run_source
from tests.apollo_server import CONTRACT_PEOPLE, contract_people
from tests.pg import columns, dict_rows, query, table_counts

DATASET = "raw_apollo"
SPLIT_OUT = ("organization", "employment_history")


# ---- fixtures (the database: `target` in conftest.py) ------------------------------------------


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    """The landing root; files go in ``<root>/apollo/people``."""
    root = tmp_path / "landing"
    (root / LANDING_KIND).mkdir(parents=True)
    return root


def people_dir(root: Path) -> Path:
    return root / LANDING_KIND


def write_lines(path: Path, lines: list[Any]) -> Path:
    """Write JSON Lines; a ``str`` item is written as is (to make bad lines)."""
    text = "\n".join(item if isinstance(item, str) else json.dumps(item) for item in lines)
    path.write_text(text + "\n", encoding="utf-8")
    return path


def load(root: Path, target: Target, suppressed: list[str] | None = None) -> LoadCounts:
    counts = LoadCounts()
    source = apollo_landing_source(str(root), suppressed=suppressed or [], counts=counts)
    run_source(source, "apollo_landing", DATASET, target, pipelines_dir=root.parent / "dlt")
    return counts


def same(stored: Any, sent: Any) -> bool:
    """Whether a stored value is the sent one (JSON, numbers and timestamps compared by value)."""
    if isinstance(stored, datetime) and isinstance(sent, str):
        return stored == datetime.fromisoformat(sent.replace("Z", "+00:00"))
    numbers = (int, float)
    if (
        isinstance(stored, numbers)
        and isinstance(sent, numbers)
        and not isinstance(stored, bool)
        and not isinstance(sent, bool)
    ):
        return float(stored) == float(sent)
    return stored == sent


def assert_stored(row: dict[str, Any], payload: dict[str, Any], where: str) -> None:
    for key, value in payload.items():
        if key in SPLIT_OUT and where == "person":
            continue
        assert key in row, f"{where}: field {key!r} has no column"
        if value is not None:
            assert same(row[key], value), f"{where}.{key}: stored {row[key]!r}, sent {value!r}"


# ---- the contract --------------------------------------------------------------------------------


def test_every_field_of_the_contract_people_is_stored(landing: Path, target: Target) -> None:
    name = "2025-03-01T120000Z_people.jsonl"
    shutil.copy(CONTRACT_PEOPLE, people_dir(landing) / name)
    contract = contract_people()

    counts = load(landing, target)

    assert counts.people == 4
    assert counts.rejected == 0
    people = {r["id"]: r for r in dict_rows(target, f"select * from {DATASET}.people")}
    orgs = {r["id"]: r for r in dict_rows(target, f"select * from {DATASET}.organizations")}
    history = dict_rows(
        target, f"select * from {DATASET}.employment_history order by person_id, entry_index"
    )
    assert sorted(people) == sorted(p["id"] for p in contract)
    assert len(orgs) == 4
    assert len(history) == sum(len(p["employment_history"]) for p in contract)

    # Nested objects are split into their own tables, not duplicated on the person row.
    person_columns = columns(target, DATASET, "people")
    assert not set(SPLIT_OUT) & set(person_columns)

    for line, payload in enumerate(contract, start=1):
        row = people[payload["id"]]
        assert_stored(row, payload, "person")
        assert row["_source"] == "landing"
        assert row["_source_file"] == f"{LANDING_KIND}/{name}"
        assert row["_source_line"] == line
        assert row["_pulled_at"] == datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
        assert row["_record_hash"]

        organization = payload["organization"]
        assert row["organization_id"] == organization["id"]
        assert_stored(orgs[organization["id"]], organization, "organization")

        entries = [h for h in history if h["person_id"] == payload["id"]]
        assert [h["entry_index"] for h in entries] == list(range(len(entries)))
        assert len(entries) == len(payload["employment_history"])
        for entry, sent in zip(entries, payload["employment_history"], strict=True):
            assert_stored(entry, sent, "employment_history")

    # Spot checks of types that matter downstream.
    types = columns(target, DATASET, "organizations")
    assert types["funding_events"] == "jsonb"
    assert types["current_technologies"] == "jsonb"
    assert types["latest_funding_round_date"] == "timestamp with time zone"
    marcus = people["651b8c9d0e1f2a0001c3d4e5"]
    assert marcus["extrapolated_email_confidence"] == pytest.approx(0.64)
    sofia_education = [h for h in history if h["kind"] == "education"]
    assert [(h["degree"], h["organization_id"]) for h in sofia_education] == [
        ("Bachelor of Arts", None)
    ]


def test_reloading_the_same_folder_duplicates_nothing(landing: Path, target: Target) -> None:
    shutil.copy(CONTRACT_PEOPLE, people_dir(landing) / "people.jsonl")
    write_lines(people_dir(landing) / "broken.jsonl", ["{not json", {"first_name": "No Id"}])

    load(landing, target)
    first = table_counts(target, DATASET)
    rejected_first = query(target, f"select rejection_id from {DATASET}.rejected_records")
    load(landing, target)

    assert first == {
        "people": 4,
        "organizations": 4,
        "employment_history": 9,
        "rejected_records": 2,
    }
    assert table_counts(target, DATASET) == first
    assert sorted(query(target, f"select rejection_id from {DATASET}.rejected_records")) == sorted(
        rejected_first
    )


# ---- bad input -----------------------------------------------------------------------------------


def test_bad_input_is_rejected_with_reason_file_and_line(landing: Path, target: Target) -> None:
    priya, daniel, marcus, sofia = contract_people()
    no_id = {k: v for k, v in sofia.items() if k != "id"}
    write_lines(
        people_dir(landing) / "people.jsonl",
        [
            priya,  # 1: good
            '{"id": "abc", "first_name": ',  # 2: not JSON
            "[1, 2, 3]",  # 3: an array, not an object
            {**daniel, "email": "daniel at veridiandental"},  # 4
            {**marcus, "seniority": "overlord"},  # 5
            no_id,  # 6
            sofia,  # 7: good
            "",  # 8: blank lines are not records
        ],
    )
    (people_dir(landing) / "export.jsonl").write_text(
        "id,first_name,last_name,email\n1,Ann,Lee,ann@example.com\n2,Bo,Ng,bo@example.com\n"
    )
    (people_dir(landing) / "legacy.jsonl").write_bytes(
        '{"id": "x9", "first_name": "José"}\n'.encode("latin-1")
    )

    counts = load(landing, target)

    # The good lines still load.
    assert sorted(r[0] for r in query(target, f"select id from {DATASET}.people")) == sorted(
        [priya["id"], sofia["id"]]
    )
    people_file = f"{LANDING_KIND}/people.jsonl"
    expected = {
        (people_file, 2): "not valid JSON",
        (people_file, 3): "expected a JSON object, got list",
        (people_file, 4): "email is not an email address: 'daniel at veridiandental'",
        (people_file, 5): "unknown seniority 'overlord'",
        (people_file, 6): "missing required field 'id'",
        (f"{LANDING_KIND}/export.jsonl", None): "not JSON Lines",
        (f"{LANDING_KIND}/legacy.jsonl", None): "not UTF-8",
    }
    rows = dict_rows(
        target,
        f"select record_kind, reason, source_file, source_line, payload"
        f" from {DATASET}.rejected_records",
    )
    found = {(r["source_file"], r["source_line"]): r for r in rows}
    assert len(rows) == len(found) == len(expected)
    assert set(found) == set(expected)
    for where, fragment in expected.items():
        row = found[where]
        assert fragment in row["reason"], (where, row["reason"])
        assert row["record_kind"] == "apollo_person"
        assert row["payload"], f"{where}: the refused input was not kept"
    assert "daniel at veridiandental" in found[(people_file, 4)]["payload"]
    assert "id,first_name" in found[(f"{LANDING_KIND}/export.jsonl", None)]["payload"]

    assert counts.people == 2
    assert counts.rejected == len(expected)
    described = [r.describe() for r in counts.rejections]
    assert any(d.startswith(f"{people_file}:5: unknown seniority 'overlord'") for d in described)


# ---- pull time -----------------------------------------------------------------------------------


def test_pulled_at_comes_from_the_file_name_else_its_mtime(landing: Path, target: Target) -> None:
    priya, daniel, marcus, _ = contract_people()
    write_lines(people_dir(landing) / "2025-03-01T120000Z_people.jsonl", [priya])
    write_lines(people_dir(landing) / "2025-04-05_people.jsonl", [daniel])
    manual = write_lines(people_dir(landing) / "manual_export.jsonl", [marcus])
    mtime = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    os.utime(manual, (mtime.timestamp(), mtime.timestamp()))

    load(landing, target)

    pulled = dict(query(target, f"select id, _pulled_at from {DATASET}.people"))
    assert pulled == {
        priya["id"]: datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC),
        daniel["id"]: datetime(2025, 4, 5, tzinfo=UTC),
        marcus["id"]: mtime,
    }


# ---- deletion requests ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "identity",
    [
        {"email": "Marcus@TidewaterBrewing.com"},
        {"linkedin_url": "https://linkedin.com/in/Marcus-Webb-8a1b2c3/"},
        {"apollo_id": "651b8c9d0e1f2a0001c3d4e5"},
    ],
    ids=["email", "linkedin", "apollo-id"],
)
def test_suppressed_person_is_kept_out_and_only_the_fact_recorded(
    landing: Path, target: Target, identity: dict[str, str]
) -> None:
    shutil.copy(CONTRACT_PEOPLE, people_dir(landing) / "people.jsonl")
    marcus = contract_people()[2]

    counts = load(landing, target, suppressed=sorted(identity_hashes(**identity)))

    ids = {r[0] for r in query(target, f"select id from {DATASET}.people")}
    assert marcus["id"] not in ids
    assert len(ids) == 3
    history_ids = {
        r[0] for r in query(target, f"select person_id from {DATASET}.employment_history")
    }
    assert marcus["id"] not in history_ids
    rows = dict_rows(target, f"select * from {DATASET}.rejected_records")
    assert len(rows) == 1
    assert "suppressed" in rows[0]["reason"]
    assert rows[0]["payload"] is None
    assert (rows[0]["source_file"], rows[0]["source_line"]) == (f"{LANDING_KIND}/people.jsonl", 3)
    assert "tidewater" not in json.dumps(rows, default=str).lower()
    assert counts.suppressed == 1
    assert counts.people == 3


def test_a_later_line_in_another_encoding_is_rejected_alone(landing: Path) -> None:
    from ingestion.landing import read_jsonl
    from ingestion.quarantine import Rejection

    path = people_dir(landing) / "2025-04-01-mixed.jsonl"
    good = [json.dumps({"id": f"p{i}", "first_name": "Ann"}) for i in range(25)]
    path.write_bytes(
        ("\n".join(good) + "\n").encode() + '{"id": "x9", "first_name": "José"}\n'.encode("latin-1")
    )
    items = list(read_jsonl(path, landing, "apollo_person"))
    rejections = [item for item in items if isinstance(item, Rejection)]
    assert len(items) - len(rejections) == 25
    assert [(r.source_line, r.reason.split(" (")[0]) for r in rejections] == [
        (26, "line is not UTF-8 text")
    ]


@pytest.mark.parametrize("name", ["12345678-export.jsonl", "2024-02-30-people.jsonl"])
def test_digits_that_are_no_date_fall_back_to_the_file_time(tmp_path: Path, name: str) -> None:
    import os
    from datetime import UTC, datetime

    from ingestion.landing import pulled_at_for

    path = tmp_path / name
    path.write_text("{}\n")
    os.utime(path, (1_750_000_000, 1_750_000_000))
    assert pulled_at_for(path) == datetime.fromtimestamp(1_750_000_000, tz=UTC)
