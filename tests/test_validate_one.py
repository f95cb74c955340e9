"""``validate_one`` reads only one lead's rows and gives exactly the batch form's verdict.

Three layers: the pure fast path (:func:`validate_lead_rows`) against :func:`validate_batch`
on random, messy histories; a hand-built pool (tables shaped like the marts, rows chosen so
that every rule fails somewhere and passes elsewhere, merged ids, email-only and future
events) where every lead, client and channel is validated one at a time and in batch; and a
pool built by the dbt project (marked ``dbt``), where the one-lead queries must be served by
indexes.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from cis.bootstrap import bootstrap
from cis.clients import Client, deterministic_uuid, load_clients
from cis.db import Target, connect, cursor, transformer_target
from cis.generate import generate_landing
from cis.jobs.allocate import allocate
from cis.jobs.clients_sync import sync_clients
from cis.jobs.frames import (
    ALIAS_QUERY,
    LEAD_ASSIGNMENTS_QUERY,
    LEAD_EVENTS_QUERY,
    LEAD_QUERY,
    read_assignments,
    read_events,
    read_leads,
)
from cis.jobs.ingest import ingest_landing
from cis.jobs.validate import validate_assigned, validate_one
from cis.pool.validation import (
    CHANNELS,
    RULE_NAMES,
    ValidationSettings,
    validate_batch,
    validate_lead_rows,
)
from cis.transform import run_dbt
from tests.event_builds import MODELS_ONLY
from tests.pg import embedded_server, fresh_database, query

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


# --- the pure fast path -------------------------------------------------------------------


def _messy(rng: random.Random, text: str | None) -> object:
    """The same value as the database might hand it over, or worse."""
    if text is None:
        return rng.choice([None, float("nan"), pd.NA])
    return rng.choice([text, text.upper(), f"  {text} ", text.title()])


def test_fast_path_equals_batch_on_random_messy_histories() -> None:
    rng = random.Random(20260310)
    clients = [
        Client(
            "northwind",
            "Northwind",
            excluded_companies=("cobalt.com",),
            required_fields=("first_name",),
        ),
        Client("ledgerly", "Ledgerly", allowed_email_statuses=("verified", "extrapolated")),
    ]
    client_ids = [str(c.client_id) for c in clients] + [str(uuid.uuid4())]
    leads = []
    for i in range(240):
        leads.append(
            {
                "lead_id": str(uuid.UUID(int=i + 1)),
                "email": rng.choice([f"p{i}@x.com", f" P{i}@X.com", None]),
                "email_status": rng.choice(["verified", "extrapolated", "guessed", None]),
                "linkedin_url": rng.choice([f"linkedin.com/in/p{i}", None, " "]),
                "phone": rng.choice(["+1555", None]),
                "first_name": rng.choice(["Pat", None, ""]),
                "company_name": rng.choice(["Cobalt", "Acme", None]),
                "company_domain": rng.choice(["www.cobalt.com", "acme.com", None]),
                "pool_status": rng.choice(
                    ["available", "assigned", "bounced", "converted", " Unsubscribed", None]
                ),
            }
        )
    assignments, events = [], []
    kinds = ["touch", "touch", "touch", "reply", "bounce", "unsubscribe"]
    kinds += ["do_not_contact", "not_interested", None]
    for lead in leads:
        for _ in range(rng.randint(0, 3)):
            assignments.append(
                {
                    "assignment_id": str(uuid.uuid4()),
                    "lead_id": rng.choice([lead["lead_id"], uuid.UUID(lead["lead_id"])]),
                    "client_id": rng.choice(client_ids),
                    "assignment_status": _messy(
                        rng, rng.choice(["active", "released", "converted", "expired", None])
                    ),
                    "released_at": None,
                }
            )
        for _ in range(rng.randint(0, 14)):
            email_only = lead["email"] is not None and rng.random() < 0.15
            at = NOW - timedelta(days=0 if rng.random() < 0.1 else rng.uniform(-5, 500))
            events.append(
                {
                    "lead_id": None if email_only else rng.choice([lead["lead_id"], ""]),
                    "email": _messy(rng, lead["email"].strip()) if email_only else None,
                    "client_id": rng.choice(client_ids),
                    "channel": _messy(rng, rng.choice(CHANNELS)),
                    "event_type": _messy(rng, rng.choice(kinds)),
                    "occurred_at": rng.choice(
                        [at, at.replace(tzinfo=None), pd.Timestamp(at), None, at.isoformat()]
                    ),
                }
            )
    frame_a = pd.DataFrame(assignments)
    frame_e = pd.DataFrame(events)
    # What the one-lead reader hands over: the rows under the lead's id, and the rows recorded
    # by address only (plus a few rows of other leads, which must be ignored).
    nobody = str(uuid.uuid4())
    noise_a = {"lead_id": nobody, "client_id": client_ids[0], "assignment_status": "active"}
    noise_e = [
        {"lead_id": nobody, "channel": "email", "event_type": "bounce", "occurred_at": NOW},
        {"lead_id": None, "email": "no@body.com", "event_type": "reply", "occurred_at": NOW},
    ]
    own_a = {lead["lead_id"]: [noise_a] for lead in leads}
    own_e = {lead["lead_id"]: list(noise_e) for lead in leads}
    for row in assignments:
        own_a[str(row["lead_id"])].append(row)
    by_email: dict[str, list[dict]] = {}
    for row in events:
        if isinstance(row["email"], str):
            by_email.setdefault(row["email"].strip().lower(), []).append(row)
        elif row["lead_id"]:
            own_e[row["lead_id"]].append(row)
    for lead in leads:
        if lead["email"] is not None:
            own_e[lead["lead_id"]] += by_email.get(lead["email"].strip().lower(), [])
    checked, failing = 0, set()
    settings = ValidationSettings(max_touches=4)
    for client in clients:
        for channel in CHANNELS:
            batch = validate_batch(
                pd.DataFrame(leads), client, channel, frame_a, frame_e, NOW, settings
            )
            singles = [
                validate_lead_rows(
                    lead,
                    client,
                    channel,
                    own_a[lead["lead_id"]],
                    own_e[lead["lead_id"]],
                    NOW,
                    settings,
                )
                for lead in leads
            ]
            assert singles == batch
            checked += len(batch)
            failing |= {rule for r in batch for rule in r.failed_rules}
    assert checked == len(leads) * len(clients) * len(CHANNELS)
    assert failing == set(RULE_NAMES)


def test_fast_path_without_history_or_lead_id() -> None:
    client = Client("northwind", "Northwind")
    lead = {"lead_id": None, "email": "a@b.com", "email_status": "verified"}
    result = validate_lead_rows(lead, client, "email", [], [], NOW)
    assert result.failed_rules == ("not_assigned_to_client",)
    assert result == validate_batch(pd.DataFrame([lead]), client, "email", None, None, NOW)[0]
    with pytest.raises(ValueError, match="unknown channel"):
        validate_lead_rows(lead, client, "fax", [], [], NOW)


# --- a hand-built pool --------------------------------------------------------------------

NORTHWIND = Client(
    "northwind",
    "Northwind",
    capacity=100,
    excluded_companies=("cobaltridge.com",),
    required_fields=("first_name", "company_name"),
)
LEDGERLY = Client(
    "ledgerly", "Ledgerly", capacity=100, allowed_email_statuses=("verified", "extrapolated")
)
QUOTAFORGE = Client("quotaforge", "QuotaForge", capacity=100, required_fields=("title",))
CLIENTS = (NORTHWIND, LEDGERLY, QUOTAFORGE)

MARTS_DDL = """
create schema pool;
create table pool.dim_organizations (organization_id uuid primary key, keywords jsonb);
create table pool.dim_leads (
    lead_id uuid primary key, email text, email_status text, linkedin_url text, phone text,
    first_name text, last_name text, title text, seniority text, department text,
    industry text, employee_count integer, country_code text, company_name text,
    company_domain text, pool_status text not null, lead_time_zone text,
    organization_id uuid references pool.dim_organizations (organization_id)
);
create index on pool.dim_leads (email);
create table pool.dim_lead_aliases (
    alias_lead_id uuid primary key, lead_id uuid not null, apollo_person_id text not null
);
create index on pool.dim_lead_aliases (lead_id);
"""


def lid(apollo_id: str) -> str:
    """The lead id dbt gives an Apollo id (``cis_uuid(['lead', id])``)."""
    return str(deterministic_uuid("lead", apollo_id))


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


# name: (dim_leads overrides, [(client, status, under alias?)], [(kind, days ago, channel, by)])
# ``by`` is "id", "alias" (the id that gave way in a merge) or "email" (address only).
LEADS: dict[str, tuple[dict, list[tuple], list[tuple]]] = {
    "clean": ({}, [(NORTHWIND, "active", False)], [("touch", 20, "email", "id")]),
    "bounced_status": ({"pool_status": "bounced"}, [(NORTHWIND, "active", False)], []),
    "unsubscribed_status": ({"pool_status": "unsubscribed"}, [(LEDGERLY, "active", False)], []),
    "dnc_status": ({"pool_status": "do_not_contact"}, [(QUOTAFORGE, "active", False)], []),
    "converted_status": ({"pool_status": "converted"}, [(LEDGERLY, "converted", False)], []),
    "extrapolated": ({"email_status": "extrapolated"}, [(NORTHWIND, "active", False)], []),
    "extrapolated_ledgerly": ({"email_status": "extrapolated"}, [(LEDGERLY, "active", False)], []),
    "no_email": ({"email": None, "email_status": None}, [(LEDGERLY, "active", False)], []),
    "no_addresses": ({"linkedin_url": None, "phone": None}, [(QUOTAFORGE, "active", False)], []),
    "merged": (
        {"second_id": True},
        [(NORTHWIND, "active", True), (LEDGERLY, "released", False)],
        [("touch", 1, "linkedin", "alias"), ("touch", 6, "email", "id")],
    ),
    "email_only": (
        {},
        [(LEDGERLY, "active", False)],
        [("unsubscribe", 10, "email", "email"), ("touch", 2, "sms", "email")],
    ),
    "replied": ({}, [(NORTHWIND, "active", False)], [("reply", 40, "linkedin", "id")]),
    "recent_touches": (
        {},
        [(QUOTAFORGE, "active", False)],
        [("touch", 2, "linkedin", "id"), ("touch", 5, "email", "id"), ("touch", 9, "sms", "id")],
    ),
    "many_touches": (
        {},
        [(NORTHWIND, "active", False)],
        [("touch", 30 + d, ("email", "linkedin")[d % 2], "id") for d in range(10)],
    ),
    "nine_touches": (
        {},
        [(NORTHWIND, "active", False)],
        [("touch", 30 + d, "email", "id") for d in range(9)],
    ),
    "not_interested": ({}, [(LEDGERLY, "active", False)], [("not_interested", 100, "sms", "id")]),
    "cooled_down": ({}, [(LEDGERLY, "active", False)], [("not_interested", 400, "sms", "id")]),
    "excluded_company": (
        {"company_domain": "www.CobaltRidge.com"},
        [(NORTHWIND, "active", False)],
        [],
    ),
    "excluded_by_name": (
        {"company_domain": None, "company_name": "cobaltridge.com"},
        [(LEDGERLY, "active", False)],
        [],
    ),
    "no_first_name": ({"first_name": None}, [(NORTHWIND, "active", False)], []),
    "no_title": ({"title": None}, [(QUOTAFORGE, "active", False)], []),
    "future_events": (
        {},
        [(NORTHWIND, "active", False)],
        [("bounce", -2, "email", "id"), ("touch", -1, "email", "id")],
    ),
    "released": ({}, [(NORTHWIND, "released", False), (LEDGERLY, "active", False)], []),
    "converted_elsewhere": ({}, [(QUOTAFORGE, "converted", False)], []),
    "bounce_event": ({}, [(QUOTAFORGE, "active", False)], [("bounce", 400, "email", "id")]),
    "dnc_event": ({}, [(NORTHWIND, "active", False)], [("do_not_contact", 3, "voice", "id")]),
    "available": ({"pool_status": "available"}, [], [("touch", 1, "email", "email")]),
}


def _lead_row(name: str, overrides: dict) -> dict:
    row = {
        "lead_id": lid(f"a-{name}"),
        "email": f"{name.replace('_', '.')}@example.com",
        "email_status": "verified",
        "linkedin_url": f"linkedin.com/in/{name}",
        "phone": "+15550100",
        "first_name": "Pat",
        "last_name": name.title(),
        "title": "VP Operations",
        "company_name": "Acme",
        "company_domain": "acme.com",
        "pool_status": "assigned",
    }
    row.update({k: v for k, v in overrides.items() if k != "second_id"})
    return row


@pytest.fixture(scope="module")
def hand_pool() -> Target:
    target = fresh_database(embedded_server(), "validate_one_hand")
    bootstrap(target)
    sync_clients(target, CLIENTS)
    with cursor(target) as cur:
        cur.execute(MARTS_DDL)
        # The marts belong to the transformer, as when dbt builds them (verbs read them as it).
        cur.execute(
            "alter schema pool owner to cis_transformer; "
            "alter table pool.dim_organizations owner to cis_transformer; "
            "alter table pool.dim_leads owner to cis_transformer; "
            "alter table pool.dim_lead_aliases owner to cis_transformer"
        )
        cur.execute(
            "insert into pool.dim_organizations values (%s, %s)",
            (str(deterministic_uuid("organization", "o1")), '["logistics"]'),
        )
        for name, (overrides, assignments, events) in LEADS.items():
            row = _lead_row(name, overrides)
            row["organization_id"] = str(deterministic_uuid("organization", "o1"))
            cur.execute(
                f"insert into pool.dim_leads ({', '.join(row)}) values ({', '.join(['%s'] * len(row))})",
                list(row.values()),
            )
            aliases = [f"a-{name}"] + ([f"b-{name}"] if overrides.get("second_id") else [])
            for apollo_id in aliases:
                cur.execute(
                    "insert into pool.dim_lead_aliases values (%s, %s, %s)",
                    (lid(apollo_id), row["lead_id"], apollo_id),
                )
            for client, status, under_alias in assignments:
                cur.execute(
                    "insert into cis.lead_assignments (lead_id, client_id, assignment_status, "
                    "assigned_by, assigned_at, released_at, release_reason, converted_at) "
                    "values (%s, %s, %s, 'test', %s, %s, %s, %s)",
                    (
                        lid(f"b-{name}") if under_alias else row["lead_id"],
                        str(client.client_id),
                        status,
                        ago(60),
                        ago(30) if status == "released" else None,
                        "manual" if status == "released" else None,
                        ago(20) if status == "converted" else None,
                    ),
                )
            for kind, days, channel, by in events:
                event_lead = {"id": row["lead_id"], "alias": lid(f"b-{name}"), "email": None}[by]
                cur.execute(
                    "insert into cis.contact_events (lead_id, email, client_id, channel, "
                    "event_type, occurred_at) values (%s, %s, %s, %s, %s, %s)",
                    (
                        event_lead,
                        row["email"].upper() if by == "email" else None,
                        str(NORTHWIND.client_id),
                        channel,
                        kind,
                        ago(days),
                    ),
                )
        # Noise: another lead's history, an address with stray spaces (neither form matches
        # it), and a second email-only event for an address nobody has.
        cur.execute(
            "insert into cis.contact_events (lead_id, email, channel, event_type, occurred_at) "
            "values (%s, null, 'email', 'reply', %s), (null, %s, 'email', 'bounce', %s), "
            "(null, 'nobody@example.com', 'email', 'do_not_contact', %s)",
            (str(uuid.uuid4()), ago(1), " clean@example.com ", ago(1), ago(1)),
        )
    return target


def _full_read_batch(target: Target, client: Client, channel: str) -> dict[str, object]:
    """The former approach: every lead, assignment and event read into pandas."""
    leads = read_leads(target)
    results = validate_batch(
        leads, client, channel, read_assignments(target), read_events(target), NOW
    )
    return {r.lead_id: r for r in results}


def test_every_lead_client_and_channel_agrees_with_the_full_read(hand_pool: Target) -> None:
    failing, allowed = set(), 0
    for client in CLIENTS:
        for channel in CHANNELS:
            expected = _full_read_batch(hand_pool, client, channel)
            assert len(expected) == len(LEADS)
            for name in LEADS:
                lead_id = lid(f"a-{name}")
                got = validate_one(hand_pool, client, lead_id, channel, now=NOW)
                assert got == expected[lead_id], (name, client.slug, channel)
                failing |= set(got.failed_rules)
                allowed += got.allowed
    assert failing == set(RULE_NAMES)
    assert allowed > 0


def test_the_recorded_batch_agrees_with_one_lead_at_a_time(hand_pool: Target) -> None:
    for channel in CHANNELS:
        outcome = validate_assigned(hand_pool, list(CLIENTS), channel, now=NOW)
        by_slug = {c.slug: c for c in CLIENTS}
        assert outcome.summary.checked == sum(
            1 for _, a, _ in LEADS.values() for _, status, _ in a if status == "active"
        )
        for result in outcome.results:
            client = by_slug[result.client_slug]
            assert validate_one(hand_pool, client, result.lead_id, channel, now=NOW) == result


def test_expected_verdicts(hand_pool: Target) -> None:
    def rules(name: str, client: Client, channel: str = "email") -> tuple[str, ...]:
        return validate_one(hand_pool, client, lid(f"a-{name}"), channel, now=NOW).failed_rules

    assert rules("clean", NORTHWIND) == ()
    assert rules("merged", NORTHWIND, "sms") == ("recent_touch_any_channel",)
    assert rules("merged", NORTHWIND) == (
        "recent_touch_any_channel",
        "recent_touch_same_channel",
    )
    assert rules("email_only", LEDGERLY) == ("unsubscribed", "recent_touch_any_channel")
    assert rules("future_events", NORTHWIND) == ()
    assert rules("nine_touches", NORTHWIND) == ()
    assert rules("many_touches", NORTHWIND) == ("max_touches_reached",)
    assert rules("released", NORTHWIND) == ("not_assigned_to_client",)
    assert rules("released", LEDGERLY) == ()
    assert rules("extrapolated_ledgerly", LEDGERLY) == ()
    assert rules("cooled_down", LEDGERLY) == ()
    assert rules("available", LEDGERLY) == (
        "not_assigned_to_client",
        "recent_touch_any_channel",
        "recent_touch_same_channel",
    )


def test_an_old_id_gives_the_current_leads_verdict(hand_pool: Target) -> None:
    current = validate_one(hand_pool, NORTHWIND, lid("a-merged"), "linkedin", now=NOW)
    old = validate_one(hand_pool, NORTHWIND, lid("b-merged"), "linkedin", now=NOW)
    assert old == current
    assert old.lead_id == lid("a-merged")
    upper = validate_one(hand_pool, NORTHWIND, lid("b-merged").upper(), "linkedin", now=NOW)
    assert upper == current


def test_unknown_leads_raise_lookup_error(hand_pool: Target) -> None:
    for lead_id in (str(uuid.uuid4()), "not-a-uuid", ""):
        with pytest.raises(LookupError, match="no lead"):
            validate_one(hand_pool, NORTHWIND, lead_id, "email", now=NOW)


# --- a pool built by the dbt project ------------------------------------------------------


@pytest.fixture(scope="module")
def dbt_pool(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("validate_one")
    target = fresh_database(embedded_server(), "validate_one_dbt")
    bootstrap(target)
    landing = work / "landing"
    generate_landing(landing, 300, seed=5)
    ingest_landing(target, landing, pipelines_dir=work / "dlt")
    clients = [c for c in load_clients(ROOT / "config" / "clients.yml") if c.status == "active"]
    sync_clients(target, clients)
    run_dbt(MODELS_ONLY, transformer_target(target), work_dir=work / "dbt")
    allocate(target, clients, now=NOW - timedelta(days=30))
    held = query(
        target,
        "select lead_id::text, client_id::text from cis.lead_assignments "
        "where assignment_status = 'active' order by lead_id",
    )
    assert len(held) >= 20
    rng = random.Random(3)
    with cursor(target) as cur:
        for i, (lead_id, client_id) in enumerate(held):
            for _ in range(i % 12):
                cur.execute(
                    "insert into cis.contact_events (lead_id, client_id, channel, event_type, "
                    "occurred_at) values (%s, %s, %s, %s, %s)",
                    (
                        lead_id,
                        client_id,
                        rng.choice(CHANNELS),
                        rng.choice(["touch"] * 6 + ["reply", "bounce", "not_interested"]),
                        ago(rng.uniform(0.5, 400)),
                    ),
                )
        # Events recorded by address only, in another case.
        cur.execute(
            "insert into cis.contact_events (email, channel, event_type, occurred_at) "
            "select upper(email), 'email', 'unsubscribe', %s from pool.dim_leads "
            "where email is not null order by lead_id limit 15",
            (ago(2),),
        )
    return {"target": target, "clients": clients}


@pytest.mark.dbt
def test_dbt_pool_one_lead_equals_batch(dbt_pool: dict) -> None:
    target, clients = dbt_pool["target"], dbt_pool["clients"]
    by_slug = {c.slug: c for c in clients}
    for channel in CHANNELS:
        outcome = validate_assigned(target, clients, channel, now=NOW)
        assert outcome.summary.checked >= 20
        for result in outcome.results:
            client = by_slug[result.client_slug]
            assert validate_one(target, client, result.lead_id, channel, now=NOW) == result
    # Every lead of the pool, held or not, against the former full read.
    client = clients[0]
    expected = _full_read_batch(target, client, "email")
    for lead_id, result in expected.items():
        assert validate_one(target, client, lead_id, "email", now=NOW) == result


@pytest.mark.dbt
def test_dbt_pool_one_lead_queries_use_indexes(dbt_pool: dict) -> None:
    """With sequential scans priced out, the plans must still find an index for every table."""
    target = dbt_pool["target"]
    lead_id, email = query(
        target, "select lead_id::text, email from pool.dim_leads where email is not null limit 1"
    )[0]
    params = {"lead_id": lead_id, "email": email}
    conn = connect(target)
    try:
        with conn.cursor() as cur:
            cur.execute("set enable_seqscan = off")
            for sql, args in (
                (ALIAS_QUERY, (lead_id,)),
                (LEAD_QUERY, params),
                (LEAD_ASSIGNMENTS_QUERY, params),
                (LEAD_EVENTS_QUERY, params),
            ):
                cur.execute("explain " + sql, args)
                plan = "\n".join(row[0] for row in cur.fetchall())
                assert "Seq Scan" not in plan, plan
    finally:
        conn.close()


def test_settings_reach_the_fast_path(hand_pool: Target) -> None:
    strict = ValidationSettings(max_touches=3, enabled_rules=frozenset({"max_touches_reached"}))
    got = validate_one(hand_pool, NORTHWIND, lid("a-recent_touches"), "email", strict, NOW)
    assert got.failed_rules == ("max_touches_reached",)
    loose = replace(strict, max_touches=4)
    assert validate_one(hand_pool, NORTHWIND, lid("a-recent_touches"), "email", loose, NOW).allowed
