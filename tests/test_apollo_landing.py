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

from cis.bootstrap import bootstrap
from cis.db import Target
from cis.jobs.ingest import load_apollo_landing
from cis.privacy import identity_hashes
from ingestion.apollo import LANDING_KIND, LoadCounts
from ingestion.progress import unread_slices
from tests.apollo_server import CONTRACT_PEOPLE, contract_people
from tests.pg import columns, dict_rows, query, table_counts

DATASET = "raw_apollo"
SPLIT_OUT = ("organization", "employment_history")


# ---- fixtures (the database: `target` in conftest.py) ------------------------------------------


@pytest.fixture
def target(target: Target) -> Target:
    """conftest's fresh database, bootstrapped (the load reads the deletion requests)."""
    bootstrap(target)
    return target


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


def load(
    root: Path, target: Target, suppressed: list[str] | None = None, reload: bool = False
) -> LoadCounts:
    """What ``cis ingest landing`` does with apollo/people: only lines no load has read."""
    counts = LoadCounts()
    load_apollo_landing(
        target, root, counts, suppressed or [], pipelines_dir=root.parent / "dlt", reload=reload
    )
    return counts


def same(stored: Any, sent: Any) -> bool:
    """Whether a stored value is the sent one (JSON, numbers and timestamps compared by value).

    An empty string in a typed text column is stored as NULL (the COPY path: docs/apollo.md).
    """
    if sent == "" and stored is None:
        return True
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
        # No pulled_at in the line: the pull time is the record's own latest timestamp.
        stamps = [
            datetime.fromisoformat(entry[key])
            for entry in payload["employment_history"]
            for key in ("created_at", "updated_at")
            if entry.get(key)
        ]
        assert row["_pulled_at"] == max(stamps)
        assert row["_pulled_at_basis"] == "record"
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
        (f"{LANDING_KIND}/legacy.jsonl", 1): "not UTF-8",  # one bad line, not a bad file
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


def test_hostile_lines_are_quarantined_alone_and_the_rest_loads(
    landing: Path, target: Target
) -> None:
    priya, daniel, marcus, sofia = contract_people()
    good = [json.dumps(p).encode() for p in (priya, daniel, marcus, sofia)]
    deep = b'{"id": "deep", "x": ' + b"[" * 10_000 + b"]" * 10_000 + b"}"
    shallow_but_deep = json.dumps({"id": "d2", "x": json.loads("[" * 80 + "]" * 80)}).encode()
    org = dict(priya["organization"])
    lines = [
        b"\xef\xbb\xbf" + good[0],  # 1: a byte-order mark before a good record
        deep,  # 2
        b'{"id": "s1", "first_name": "\\ud800"}',  # 3: a lone surrogate
        b'{"id": "n1", "alexa": ' + b"1" + b"0" * 30 + b"}",  # 4: beyond 64 bits
        b'{"id": "n2", "score": NaN}',  # 5
        b'{"id": "n3", "score": -Infinity}',  # 6
        b'{"id": "n4", "score": 1e400}',  # 7: overflows to infinity
        b'{"id": "z1", "first_name": "A\\u0000B"}',  # 8: NUL inside a string
        b'{"id": "u1", "first_name": "Jos\xe9"}',  # 9: not UTF-8
        json.dumps({**daniel, "id": "e1", "email": "dan\u200biel@veridiandental.com"}).encode(),
        json.dumps(
            {**marcus, "id": "o1", "organization": {**org, "estimated_num_employees": "high"}}
        ).encode(),  # 11
        json.dumps({**sofia, "id": "p1", "pulled_at": "last tuesday"}).encode(),  # 12
        shallow_but_deep,  # 13
        good[1],
        good[2],
        good[3],
    ]
    (people_dir(landing) / "hostile.jsonl").write_bytes(b"\n".join(lines) + b"\n")

    counts = load(landing, target)

    assert counts.people == 4
    assert sorted(r[0] for r in query(target, f"select id from {DATASET}.people")) == sorted(
        p["id"] for p in (priya, daniel, marcus, sofia)
    )
    reasons = dict(query(target, f"select source_line, reason from {DATASET}.rejected_records"))
    expected = {
        2: "nested too deeply",
        3: "lone surrogate",
        4: "64-bit range",
        5: "non-finite number NaN",
        6: "non-finite number -Infinity",
        7: "not a finite number",
        8: "NUL character",
        9: "not UTF-8 text",
        10: "unsafe characters",
        11: "organization.estimated_num_employees: expected a whole number, got 'high'",
        12: "pulled_at: expected an ISO 8601 time",
        13: "nested deeper than 64 levels",
    }
    assert set(reasons) == set(expected)
    for line, fragment in expected.items():
        assert fragment in reasons[line], (line, reasons[line])
    assert counts.rejected == len(expected)
    # Nothing is lost: the payload of each rejected line is kept, readable.
    payloads = dict(query(target, f"select source_line, payload from {DATASET}.rejected_records"))
    assert all(payloads[line] for line in expected)
    assert "\\u0000" in payloads[8]


def test_email_check_agrees_with_email_validator() -> None:
    from email_validator import EmailNotValidError, validate_email

    from ingestion.apollo.records import email_problem

    samples = [
        "jane.doe@acme.com",
        "o'brien+sales@sub.acme.co.uk",
        "a..b@acme.com",
        ".a@acme.com",
        "a@-acme.com",
        "a@acme",
        "a@acme.local",
        "a@acme.test",
        "x" * 65 + "@acme.com",
        "jane\u200b@acme.com",
        "josé@exämple.com",
        "a@acme.c0m",
        "a@[127.0.0.1]",
    ]
    for email in samples:
        try:
            validate_email(email, check_deliverability=False)
            library_ok = True
        except EmailNotValidError:
            library_ok = False
        assert (email_problem(email) is None) == library_ok, email


# ---- pull time and record identity ----------------------------------------------------------------


def _with_history_stamp(person: dict, stamp: str | None, **changes: Any) -> dict:
    """The person with every history entry stamped ``stamp`` (None: no stamps) and ``changes``."""
    copy = json.loads(json.dumps(person))
    for entry in copy["employment_history"]:
        entry["created_at"] = entry["updated_at"] = stamp
    copy.update(changes)
    return copy


def test_pull_time_comes_from_the_record_never_the_file(landing: Path, target: Target) -> None:
    priya, daniel, marcus, _ = contract_people()
    explicit = {**priya, "pulled_at": "2025-05-01T08:00:00+02:00"}
    stamped = _with_history_stamp(daniel, "2024-11-03T10:00:00.000Z")
    unstamped = _with_history_stamp(marcus, None)
    path = write_lines(
        people_dir(landing) / "2025-03-01T120000Z_people.jsonl", [explicit, stamped, unstamped]
    )
    os.utime(path, (datetime(2020, 1, 1, tzinfo=UTC).timestamp(),) * 2)
    before = datetime.now(tz=UTC)

    load(landing, target)

    rows = {
        r["id"]: r
        for r in dict_rows(
            target, f"select id, _pulled_at, _pulled_at_basis, _observed_at from {DATASET}.people"
        )
    }
    assert rows[priya["id"]]["_pulled_at"] == datetime(2025, 5, 1, 6, 0, tzinfo=UTC)
    assert rows[priya["id"]]["_pulled_at_basis"] == "line"
    assert rows[daniel["id"]]["_pulled_at"] == datetime(2024, 11, 3, 10, 0, tzinfo=UTC)
    assert rows[daniel["id"]]["_pulled_at_basis"] == "record"
    # Nothing in the record says when: the load time stands in, and says so.
    assert rows[marcus["id"]]["_pulled_at_basis"] == "loaded"
    assert rows[marcus["id"]]["_pulled_at"] >= before
    assert rows[marcus["id"]]["_observed_at"] is None


def test_every_record_is_kept_within_and_across_files(landing: Path, target: Target) -> None:
    priya, daniel, *_ = contract_people()
    older = _with_history_stamp(priya, "2024-01-01T00:00:00.000Z", title="Director of Operations")
    newer = _with_history_stamp(priya, "2024-09-02T10:14:03.118Z")
    write_lines(people_dir(landing) / "a.jsonl", [older, daniel, newer])  # same id twice
    write_lines(people_dir(landing) / "b.jsonl", [newer, older])  # and again in another file

    counts = load(landing, target)

    assert counts.people == 5
    rows = dict_rows(
        target,
        f"select id, title, _source_file, _source_line from {DATASET}.people "
        "order by _source_file, _source_line",
    )
    assert [(r["_source_file"].rsplit("/", 1)[1], r["_source_line"]) for r in rows] == [
        ("a.jsonl", 1),
        ("a.jsonl", 2),
        ("a.jsonl", 3),
        ("b.jsonl", 1),
        ("b.jsonl", 2),
    ]
    assert [r["title"] for r in rows if r["id"] == priya["id"]] == [
        "Director of Operations",
        priya["title"],
        priya["title"],
        "Director of Operations",
    ]
    history = query(
        target,
        f"select count(distinct _record_id), count(*) from {DATASET}.employment_history "
        "where person_id = %s",
        (priya["id"],),
    )
    assert history == [(4, 4 * len(priya["employment_history"]))]
    assert query(target, f"select count(*) from {DATASET}.organizations") == [(5,)]

    # Loading the same files again reads nothing (the progress ledger) and stores nothing new;
    # reading them all again from the start (--reload) replaces their rows, never doubles them.
    again = load(landing, target)
    assert (again.people, again.files) == (0, 0)
    assert query(target, f"select count(*) from {DATASET}.people") == [(5,)]
    reloaded = load(landing, target, reload=True)
    assert reloaded.people == 5
    for table in ("people", "organizations"):
        assert query(
            target, f"select count(*), count(distinct _record_id) from {DATASET}.{table}"
        ) == [(5, 5)]


def test_a_clean_folder_still_creates_the_quarantine_table(landing: Path, target: Target) -> None:
    shutil.copy(CONTRACT_PEOPLE, people_dir(landing) / "people.jsonl")

    counts = load(landing, target)

    assert counts.rejected == 0
    assert query(target, f"select count(*) from {DATASET}.rejected_records") == [(0,)]


def test_every_landing_entry_no_loader_reads_is_listed(landing: Path) -> None:
    from ingestion.landing import unread_entries

    shutil.copy(CONTRACT_PEOPLE, people_dir(landing) / "people.jsonl")
    (landing / "agency").mkdir()
    (landing / "agency" / "clients.json").write_text("{}")
    (landing / "notes.txt").write_text("hi")
    (people_dir(landing) / "export.csv").write_text("id\n")
    (people_dir(landing) / ".people.jsonl.tmp").write_text("{}")
    (people_dir(landing) / "x.jsonl").mkdir()
    (people_dir(landing) / "x.jsonl" / "inner.jsonl").write_text("{}")
    (landing / "smartlead" / "webhooks").mkdir(parents=True)
    (landing / "smartlead" / "webhooks" / "a.jsonl").write_text("{}")
    (landing / "apollo" / "stray.jsonl").write_text("{}")

    listed = {e.path: e.reason for e in unread_entries(landing, [LANDING_KIND])}

    assert set(listed) == {
        "agency/",
        "notes.txt",
        "apollo/stray.jsonl",
        "apollo/people/export.csv",
        "apollo/people/.people.jsonl.tmp",
        "apollo/people/x.jsonl/",
        "smartlead/",
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


def test_links_and_folders_in_the_landing_are_listed_never_followed(
    landing: Path, target: Target, tmp_path: Path
) -> None:
    from ingestion.landing import unread_entries

    shutil.copy(CONTRACT_PEOPLE, people_dir(landing) / "people.jsonl")
    outside = tmp_path / "outside.jsonl"
    outside.write_text(json.dumps({"id": "secret", "email": "secret@elsewhere.com"}) + "\n")
    (people_dir(landing) / "linked.jsonl").symlink_to(outside)
    (people_dir(landing) / "loop.jsonl").symlink_to(people_dir(landing) / "loop.jsonl")
    (people_dir(landing) / "folder.jsonl").mkdir()

    counts = load(landing, target)

    assert counts.people == 4
    assert counts.files == 1
    assert "secret" not in json.dumps(
        query(target, f"select payload from {DATASET}.rejected_records"), default=str
    )
    listed = {e.path: e.reason for e in unread_entries(landing, [LANDING_KIND])}
    assert "not followed" in listed[f"{LANDING_KIND}/linked.jsonl"]
    assert "not followed" in listed[f"{LANDING_KIND}/loop.jsonl"]
    assert "folder inside a payload folder" in listed[f"{LANDING_KIND}/folder.jsonl/"]


def test_two_folders_with_the_same_file_names_keep_both(tmp_path: Path, target: Target) -> None:
    priya, daniel, marcus, sofia = contract_people()
    for name, people in (("a", [priya, daniel]), ("b", [marcus, sofia])):
        root = tmp_path / name
        (root / LANDING_KIND).mkdir(parents=True)
        write_lines(root / LANDING_KIND / "people.jsonl", [*people, f"{{broken {name}"])
        load(root, target)

    assert query(target, f"select count(*) from {DATASET}.people") == [(4,)]
    payloads = sorted(
        r[0] for r in query(target, f"select payload from {DATASET}.rejected_records")
    )
    assert payloads == ["{broken a", "{broken b"]


def test_worker_processes_read_exactly_what_one_process_reads(
    tmp_path: Path, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cis.generate import generate_landing
    from ingestion.apollo import landing_read

    landing = tmp_path / "generated"
    generate_landing(landing, 600, seed=5, lines_per_file=250)
    people_files = sorted(people_dir(landing).glob("*.jsonl"))
    with people_files[0].open("a") as handle:
        handle.write("{not json\n")  # a rejection inside a worker's chunk

    def stored() -> dict[str, list[tuple]]:
        return {
            table: sorted(
                query(
                    target, f"select _record_id, _source_file, _source_line from {DATASET}.{table}"
                )
            )
            for table in ("people", "organizations", "employment_history")
        }

    one = load(landing, target)
    in_one_process = stored()
    rejected_one = sorted(
        query(target, f"select source_file, source_line, reason from {DATASET}.rejected_records")
    )

    # Small chunks and no size threshold: the same files read by two spawned workers.
    monkeypatch.setattr(landing_read, "PROCESSES_FROM_BYTES", 0)
    monkeypatch.setattr(landing_read, "CHUNK_BYTES", 64 * 1024)
    chunks = [
        c
        for p in unread_slices(landing, LANDING_KIND, {})
        for c in landing_read.plan(p, landing, "k")[0]
    ]
    assert len(chunks) > len(people_files)  # files were cut into several chunks
    workers = load(landing, target, reload=True)

    assert stored() == in_one_process
    assert (workers.people, workers.rejected) == (one.people, one.rejected)
    assert workers.fields_seen == one.fields_seen
    rejected = query(
        target, f"select source_file, source_line, reason from {DATASET}.rejected_records"
    )
    assert sorted(rejected) == rejected_one


def test_a_run_that_dies_before_recording_its_progress_stores_each_line_once(
    landing: Path, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cis.jobs.ingest as ingest

    shutil.copy(CONTRACT_PEOPLE, people_dir(landing) / "people.jsonl")
    real = ingest.record_progress

    def die(*_args: object) -> None:
        raise RuntimeError("killed between the load and its progress")

    monkeypatch.setattr(ingest, "record_progress", die)
    with pytest.raises(RuntimeError):
        load(landing, target)
    assert query(target, f"select count(*) from {DATASET}.people") == [(4,)]  # loaded, unrecorded

    monkeypatch.setattr(ingest, "record_progress", real)
    again = load(landing, target)

    assert again.people == 4  # read again: the crashed run's rows were replaced, not doubled
    for table in ("people", "organizations"):
        assert query(
            target, f"select count(*), count(distinct _record_id) from {DATASET}.{table}"
        ) == [(4, 4)]
    assert load(landing, target).people == 0  # and now recorded


def test_fields_whose_columns_would_collide_are_refused_with_both_names(
    landing: Path, target: Target
) -> None:
    priya, daniel, marcus, sofia = contract_people()
    lines = [
        {**priya, "firstName": "Priyanka"},  # would land in first_name
        {**daniel, "Buying Role": "champion", "buying_role": "economic buyer"},
        {**marcus, "organization": {**marcus["organization"], "estimated_num_employees": 1e19}},
        {**sofia, "Buying Stage": "evaluation"},  # unknown, no collision: kept as buying_stage
    ]
    write_lines(people_dir(landing) / "people.jsonl", lines)

    counts = load(landing, target)

    assert counts.people == 1
    reasons = dict(query(target, f"select source_line, reason from {DATASET}.rejected_records"))
    assert "firstName: its column would be 'first_name', which first_name uses" in reasons[1]
    assert "its column would be 'buying_role'" in reasons[2]
    assert "estimated_num_employees: expected a whole number" in reasons[3]
    stored = dict_rows(target, f"select id, buying_stage from {DATASET}.people")
    assert stored == [{"id": sofia["id"], "buying_stage": "evaluation"}]


def test_a_last_line_still_being_written_is_read_once_it_is_complete(
    landing: Path, target: Target
) -> None:
    priya, daniel, *_ = contract_people()
    path = people_dir(landing) / "people.jsonl"
    whole = json.dumps(daniel)
    path.write_text(json.dumps(priya) + "\n" + whole[: len(whole) // 2])  # mid-append

    first = load(landing, target)
    assert (first.people, first.rejected) == (1, 0)  # the half line is neither row nor rejection

    with path.open("a") as handle:
        handle.write(whole[len(whole) // 2 :] + "\n")
    second = load(landing, target)

    assert (second.people, second.rejected) == (1, 0)
    rows = query(target, f"select id, _source_line from {DATASET}.people order by _source_line")
    assert rows == [(priya["id"], 1), (daniel["id"], 2)]


def test_a_rewritten_file_keeps_its_earlier_rows_and_stores_no_line_twice(
    landing: Path, target: Target
) -> None:
    priya, daniel, marcus, _ = contract_people()
    path = people_dir(landing) / "people.jsonl"
    write_lines(path, [priya, daniel])
    load(landing, target)

    # Rewritten: line 1 changed, line 2 the same record at the same place, a third line added.
    write_lines(path, [{**priya, "title": "CFO"}, daniel, marcus])
    again = load(landing, target)

    assert again.people == 3
    rows = query(target, f"select id, title, _source_line from {DATASET}.people order by 3, 2")
    assert [(r[0], r[2]) for r in rows] == [
        (priya["id"], 1),
        (priya["id"], 1),
        (daniel["id"], 2),
        (marcus["id"], 3),
    ]
    assert {r[1] for r in rows if r[0] == priya["id"]} == {priya["title"], "CFO"}
    for table in ("people", "organizations"):
        assert query(
            target, f"select count(*) - count(distinct _record_id) from {DATASET}.{table}"
        ) == [(0,)]
