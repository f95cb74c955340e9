"""``cis forget`` leaves nothing of the person anywhere, and nothing of anyone else is lost.

The person is spread the way real data spreads a person: two Apollo records linked by a shared
email, a third record known only from a rejected line, a broken line that still holds the
address, contact events by lead and by email alone, an assignment, and dlt's working folder.
Every table of every schema and every file of the state folder is scanned after the request,
after the same folder is loaded again, and after the marts are rebuilt.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cis.bootstrap import bootstrap
from cis.clients import load_clients
from cis.db import Target, cursor, loader_target, transformer_target
from cis.jobs.clients_sync import sync_clients
from cis.jobs.forget import forget_person
from cis.jobs.ingest import ingest_landing
from cis.transform import run_dbt
from ingestion.apollo import DATASET, LANDING_KIND, LoadCounts, apollo_landing_source
from ingestion.apollo.suppression import pseudonym
from ingestion.pipeline import make_pipeline
from ingestion.quarantine import WITHHELD
from tests.apollo_server import contract_people
from tests.event_builds import DATA_TESTED, MODELS_ONLY
from tests.pg import query

ROOT = Path(__file__).resolve().parents[1]
EMAIL = "Dana.Forgotten@Example-Corp.com"
LINKEDIN = "http://www.linkedin.com/in/Dana-Forgotten"
FIRST_ID, SECOND_ID, REJECTED_ID = "5f0aa1" + "1" * 18, "5f0aa2" + "2" * 18, "5f0aa3" + "3" * 18
# Another person whose identifiers start like hers: forget must leave them alone.
NEIGHBOUR = {
    "id": "5f0aa4" + "4" * 18,
    "email": "dana.forgotten@example-corp.com.au",
    "linkedin_url": "https://linkedin.com/in/dana-forgotten-2",
}


def _people() -> list[dict]:
    contract = contract_people()
    first = {**contract[0], "id": FIRST_ID, "email": EMAIL, "linkedin_url": LINKEDIN}
    # A second Apollo id of the same person (same address, other case), a later pull.
    second = {**contract[1], "id": SECOND_ID, "email": EMAIL.lower(), "linkedin_url": None}
    neighbour = {**contract[2 % len(contract)], **NEIGHBOUR}
    others = [
        {
            **contract[i % len(contract)],
            "id": f"0ther{i:019d}",
            "email": f"other.{i}@elsewhere.example",
            "linkedin_url": f"https://linkedin.com/in/other-{i}",
        }
        for i in range(12)
    ]
    return [first, second, neighbour, *others]


def _landing(root: Path) -> Path:
    folder = root / LANDING_KIND
    folder.mkdir(parents=True)
    lines = [json.dumps(p) for p in _people()]
    # A third record of hers that is rejected (unknown seniority): known only from quarantine.
    rejected = {**contract_people()[0], "id": REJECTED_ID, "email": EMAIL, "seniority": "boss"}
    lines.append(json.dumps(rejected))
    # A broken line that still carries her address.
    lines.append('{"id": "broken", "email": "' + EMAIL + '", "name": ')
    (folder / "people.jsonl").write_text("\n".join(lines) + "\n")
    _events(root, "events.jsonl")
    return root


def _repull(root: Path) -> None:
    """Every Apollo file again under a new name: what a later export of the same people is
    (a file already read is not read again: the progress ledger)."""
    for path in sorted((root / LANDING_KIND).glob("*.jsonl")):
        shutil.copy(path, path.with_name(f"repull-{path.name}"))


def _events(root: Path, name: str) -> None:
    """Vendor events about her (by address, by LinkedIn URL), one about the neighbour, and a
    rejected one (its time is not a time) that still names her."""
    contracts = ROOT / "tests" / "fixtures" / "contracts"
    smartlead = json.loads((contracts / "smartlead__webhook.jsonl").read_text().splitlines()[1])
    heyreach = json.loads((contracts / "heyreach__webhook.jsonl").read_text().splitlines()[3])
    webhooks = [
        {**smartlead, "to_email": EMAIL, "sl_lead_email": EMAIL},
        {**smartlead, "to_email": NEIGHBOUR["email"], "sl_lead_email": NEIGHBOUR["email"]},
        {**smartlead, "to_email": EMAIL, "event_timestamp": "soon"},
    ]
    linkedin = [{**heyreach, "lead": {**heyreach["lead"], "profile_url": LINKEDIN}}]
    for kind, rows in (("smartlead/webhooks", webhooks), ("linkedin/events", linkedin)):
        (root / kind).mkdir(parents=True, exist_ok=True)
        (root / kind / name).write_text("".join(json.dumps(r) + "\n" for r in rows))


def _needles() -> list[str]:
    return [
        EMAIL.lower(),
        "linkedin.com/in/dana-forgotten",
        FIRST_ID,
        SECOND_ID,
        REJECTED_ID,
    ]


def residue(target: Target) -> dict[str, int]:
    """Rows of every table (every schema but the catalogs) whose text names the person."""
    tables = query(
        target,
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE' "
        "and table_schema not in ('pg_catalog', 'information_schema')",
    )
    found: dict[str, int] = {}
    with cursor(target) as cur:
        for schema, table in tables:
            cur.execute(f'select t::text from "{schema}"."{table}" as t')
            hits = 0
            for (text,) in cur.fetchall():
                lowered = text.lower()
                # A whole-token match: the neighbour's address and URL extend hers.
                hits += any(n in lowered and not _only_as_prefix(lowered, n) for n in _needles())
            if hits:
                found[f"{schema}.{table}"] = hits
    return found


def _only_as_prefix(text: str, needle: str) -> bool:
    """Every occurrence of ``needle`` in ``text`` continues as a longer identifier."""
    start = 0
    while (at := text.find(needle, start)) >= 0:
        following = text[at + len(needle) : at + len(needle) + 2]
        if not (following[:1].isalnum() or following[:1] == "-" or following[:2] == ".a"):
            return False
        start = at + 1
    return True


def files_naming_her(folder: Path) -> list[Path]:
    return [
        path
        for path in folder.rglob("*")
        if path.is_file()
        and any(
            n in (text := path.read_bytes().decode("utf-8", "replace").lower())
            and not _only_as_prefix(text, n)
            for n in _needles()
        )
    ]


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> dict:
    from tests.pg import embedded_server, fresh_database

    work = tmp_path_factory.mktemp("forget")
    target = fresh_database(embedded_server(), "forget_everything")
    bootstrap(target)
    landing = _landing(work / "landing")
    ingest_landing(target, landing, pipelines_dir=work / "dlt")
    clients = load_clients(ROOT / "config" / "clients.yml")
    sync_clients(target, clients)
    run_dbt(MODELS_ONLY, transformer_target(target), work_dir=work / "dbt")
    client_id = str(clients[0].client_id)
    lead_id = query(
        target,
        "select lead_id::text from pool.dim_leads where %s = any(apollo_person_ids)",
        (FIRST_ID,),
    )[0][0]
    with cursor(target) as cur:
        cur.execute(
            "insert into cis.lead_assignments (lead_id, client_id, assigned_by) "
            "values (%s, %s, 'test')",
            (lead_id, client_id),
        )
        cur.execute(
            "insert into cis.contact_events (lead_id, email, client_id, channel, event_type, "
            "occurred_at) values (%s, %s, %s, 'email', 'touch', now()), "
            "(null, %s, %s, 'email', 'reply', now())",
            (lead_id, EMAIL, client_id, EMAIL.upper(), client_id),
        )
    return {"target": target, "work": work, "landing": landing, "lead_id": lead_id}


def test_the_person_is_everywhere_before_the_request(loaded: dict) -> None:
    """The scan finds her in raw, quarantine, the marts and the ops tables (it can fail)."""
    found = residue(loaded["target"])
    assert {
        "raw_apollo.people",
        "raw_apollo.rejected_records",
        "pool.dim_leads",
        "pool.dim_lead_aliases",
        "cis.contact_events",
        "raw_smartlead.webhook_events",
        "raw_smartlead.rejected_records",
        "raw_heyreach.webhook_events",
    } <= set(found)


def test_forget_leaves_nothing_and_keeps_everyone_else(loaded: dict) -> None:
    target, work = loaded["target"], loaded["work"]
    others_before = query(
        target, "select count(*), count(email) from raw_apollo.people where id like '0ther%%'"
    )
    neighbour_before = query(
        target,
        "select email, linkedin_url from raw_apollo.people where id = %s",
        (NEIGHBOUR["id"],),
    )
    rejected_before = query(target, "select count(*) from raw_apollo.rejected_records")

    outcome = forget_person(target, email=EMAIL.upper(), pipelines_dir=work / "dlt")

    assert outcome.apollo_ids == 3  # two loaded records and the rejected one
    # The rejected record and the broken line; the rejected Smartlead event.
    assert outcome.rejected_payloads_cleared == 3
    assert outcome.contact_events_scrubbed == 2
    assert outcome.vendor_events_scrubbed == 2  # by address, and by LinkedIn URL
    assert residue(target) == {}
    assert files_naming_her(work / "dlt") == []
    # Everyone else is untouched; the quarantine keeps every line and its reason.
    assert (
        query(
            target, "select count(*), count(email) from raw_apollo.people where id like '0ther%%'"
        )
        == others_before
    )
    assert (
        query(
            target,
            "select email, linkedin_url from raw_apollo.people where id = %s",
            (NEIGHBOUR["id"],),
        )
        == neighbour_before
    )
    assert query(target, "select count(*) from raw_apollo.rejected_records") == rejected_before
    assert query(
        target,
        "select count(*) from raw_apollo.rejected_records where payload is null and reason like %s",
        (f"%{WITHHELD}%",),
    ) == [(2,)]
    # Her records stay, anonymised, under pseudonyms; the events and assignment follow them.
    assert query(
        target,
        "select count(*) from raw_apollo.people where id in (%s, %s)",
        (pseudonym(FIRST_ID), pseudonym(SECOND_ID)),
    ) == [(2,)]
    assert query(
        target,
        "select count(*), count(*) filter (where lead_id is not null) from cis.contact_events",
    ) == [(2, 2)]
    assert (
        query(
            target,
            "select assignment_status, release_reason from cis.lead_assignments "
            "where lead_id = %s::uuid",
            (loaded["lead_id"],),
        )
        == []
    )
    assert query(
        target,
        "select assignment_status, release_reason from cis.lead_assignments",
    ) == [("released", "deletion_request")]

    # The events stay, without her: the neighbour's keeps its body.
    assert query(
        target,
        "select count(*), count(payload), count(lead_email) from raw_smartlead.webhook_events",
    ) == [(2, 1, 1)]

    # Her records again (a later export of the same pull, under a new name) and new events
    # about her: suppressed, rejected lines keep no payload.
    _events(loaded["landing"], "later-events.jsonl")
    _repull(loaded["landing"])
    report = ingest_landing(target, loaded["landing"], pipelines_dir=work / "dlt")
    assert report.counts.suppressed == 3
    smartlead = next(r for r in report.events if r.dataset == "raw_smartlead")
    assert smartlead.counts.suppressed == 1
    assert residue(target) == {}
    assert files_naming_her(work / "dlt") == []

    run_dbt(DATA_TESTED, transformer_target(target), work_dir=work / "dbt")
    assert residue(target) == {}
    statuses = query(
        target,
        "select pool_status, deleted_at is not null from pool.dim_leads "
        "where apollo_person_ids && %s::text[]",
        ([pseudonym(FIRST_ID), pseudonym(SECOND_ID)],),
    )
    assert statuses and all(row == ("do_not_contact", True) for row in statuses)


def test_a_request_that_lands_during_a_load_still_reaches_it(
    tmp_path: Path, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A load that read the suppression keys before a request landed is scrubbed after it."""
    bootstrap(target)
    landing = _landing(tmp_path / "landing")
    ingest_landing(target, landing, pipelines_dir=tmp_path / "dlt")
    forget_person(target, email=EMAIL, pipelines_dir=tmp_path / "dlt")
    # The next run read no keys (as if it started just before the request).
    monkeypatch.setattr("cis.jobs.ingest.suppressed_keys", lambda _target: set())
    again = tmp_path / "again"
    (again / LANDING_KIND).mkdir(parents=True)
    (again / LANDING_KIND / "repull.jsonl").write_text(json.dumps(_people()[0]) + "\n")

    report = ingest_landing(target, again, pipelines_dir=tmp_path / "dlt")

    assert report.counts.suppressed == 1
    assert query(
        target, "select count(*) from raw_apollo.people where lower(email) = %s", (EMAIL.lower(),)
    ) == [(0,)]


def test_forget_finishes_a_pending_load_and_scrubs_it(tmp_path: Path, target: Target) -> None:
    bootstrap(target)
    landing = _landing(tmp_path / "landing")
    # A run that extracted and normalised, then died before loading: her data is on disk.
    pipeline = make_pipeline("apollo_landing", DATASET, loader_target(target), tmp_path / "dlt")
    pipeline.extract(apollo_landing_source(str(landing), counts=LoadCounts()))
    pipeline.normalize()
    assert pipeline.has_pending_data
    assert files_naming_her(tmp_path / "dlt")

    outcome = forget_person(target, linkedin_url=LINKEDIN.upper(), pipelines_dir=tmp_path / "dlt")

    assert outcome.pending_loads_finished == 1
    assert files_naming_her(tmp_path / "dlt") == []
    assert residue(target) == {}
    assert query(target, "select count(*) from raw_apollo.people where id like '0ther%%'") == [
        (len(_people()) - 3,)
    ]
