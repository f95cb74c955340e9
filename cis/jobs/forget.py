"""``cis forget``: honour a deletion request.

Every record of the person is found by the identity rules the marts use (shared email, then
LinkedIn URL, transitively; role addresses link nobody), in the raw tables and in the rejected
lines. Then, each step as the role that owns what it changes (so no trigger a lower role put on
its own table ever runs with an administrator's rights):

1. as the operator, on the ``cis`` tables: an audit record and hashed suppression keys, the
   person's assignments released, the email taken out of their contact events, and every lead
   id they had re-keyed to the pseudonym's (see ``ingestion.apollo.suppression``);
2. as the loader, under the lock of every raw dataset (Apollo's, then each vendor's events in
   name order: ``load_locks``; no load of any of them runs meanwhile, and the load a crashed run
   left pending in each is finished first, so it is scrubbed too): raw records anonymised,
   Apollo ids replaced by pseudonyms, history and organization rows deleted, the person's vendor
   events scrubbed (``ingestion.events.forget``), rejected payloads that name the person
   dropped in every dataset, and dlt's staging copies emptied;
3. as the transformer: the person out of the pool and the event marts at once, before the next build;
4. files in dlt's working folder that still name the person are removed.

The request is recorded only once every lock is held: a load either completed before it (and
is scrubbed here) or writes its rows after it. Every later load applies the suppression keys
again, to records and rejected lines as it reads them and, set-based, to the rows it wrote once
it has completed (Apollo's and the events' suppression passes, as the loader, under the
dataset's lock): that covers a run that read the keys just before the request landed.

Locks are always taken in the order of ``load_locks``; a load holds only its own dataset's, so
a deletion request and the loads (or two requests) never wait for each other in a circle.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from psycopg2 import sql

from cis.clients import deterministic_uuid
from cis.db import Target, connect, loader_target, state_dir, transformer_target
from cis.jobs.ingest_events import EVENT_DATASETS, event_pipelines
from cis.privacy import identity_keys, normalise_email, normalise_linkedin
from ingestion.apollo import DATASET
from ingestion.apollo.records import email_problem
from ingestion.apollo.suppression import (
    LINKEDIN_KEY_SQL,
    Identifiers,
    clear_rejected_payloads,
    clear_staging,
    grow_from_rejected,
    lead_id_map,
    pseudonym,
    scrub_people,
)
from ingestion.events.forget import scrub_events
from ingestion.pipeline import dataset_lock_name, files_naming, finish_pending_runs, pipeline_lock

EVENT_MART_SCHEMA = "engagement"
THREAD_MART_SCHEMA = "threads"
# pool.dim_leads columns that hold personal data (nullable in its contract).
PERSONAL_LEAD_COLUMNS = (
    "first_name",
    "last_name",
    "full_name",
    "headline",
    "email",
    "linkedin_url",
    "phone",
    "phone_numbers",
    "photo_url",
    "twitter_url",
    "github_url",
    "facebook_url",
    "street_address",
    "postal_code",
    "formatted_address",
    "city",
    "state",
)
_APOLLO_ID = re.compile(r"^[A-Za-z0-9]{8,64}$")
_LINKEDIN_PROFILE = re.compile(r"^linkedin\.com/(in|pub)/[^/?#\s]+$")


def check_request(email: str | None, linkedin_url: str | None, apollo_id: str | None) -> None:
    """Refuse a request that does not name one person exactly (``"@"`` would match everyone).

    Raises ValueError naming the value: the email must be a valid address, the LinkedIn URL a
    profile URL (``linkedin.com/in/...``), the Apollo id an id (letters and digits).
    """
    if email is not None and (not email.strip() or email_problem(email.strip())):
        raise ValueError(f"not an email address: {email!r}")
    if linkedin_url is not None and not _LINKEDIN_PROFILE.match(
        normalise_linkedin(linkedin_url) or ""
    ):
        raise ValueError(f"not a LinkedIn profile URL: {linkedin_url!r}")
    if apollo_id is not None and not _APOLLO_ID.match(apollo_id.strip()):
        raise ValueError(f"not an Apollo id: {apollo_id!r}")


# The pipelines that write the raw Apollo dataset (their pending loads are finished first).
APOLLO_PIPELINES = ["apollo_landing", "apollo"]
# dbt's schema of intermediate tables (dbt_project.yml).
INTERMEDIATE_SCHEMA = "intermediate"
# Tables of the cis schema that hold lead ids (re-keyed with the person's Apollo ids).
OPS_LEAD_ID_TABLES = ("lead_assignments", "contact_events", "validation_results")


@dataclass(frozen=True)
class DeletionOutcome:
    deletion_request_id: str
    apollo_ids: int
    people_rows_anonymised: int
    history_rows_deleted: int
    rejected_payloads_cleared: int
    assignments_released: int
    suppression_keys: int
    contact_events_scrubbed: int = 0
    pending_loads_finished: int = 0
    pipeline_files_removed: int = 0
    vendor_events_scrubbed: int = 0


def load_locks() -> list[tuple[str, list[str]]]:
    """Every raw dataset a deletion request reaches, in the order their locks are taken (Apollo's,
    then the vendors' by name), with the pipelines whose pending loads are finished first."""
    events = [(dataset, event_pipelines(dataset)) for dataset in sorted(EVENT_DATASETS)]
    return [(DATASET, APOLLO_PIPELINES), *events]


def _identifiers(email: str | None, linkedin_url: str | None, apollo_id: str | None) -> Identifiers:
    identifiers = Identifiers(set(), set(), set())
    if apollo_id:
        identifiers.apollo_ids.add(apollo_id.strip())
    if key := normalise_email(email):
        identifiers.emails.add(key)  # the subject's own address, even a role address
    if key := normalise_linkedin(linkedin_url):
        identifiers.linkedin_keys.add(key)
    return identifiers


def _grow_from_people(cur, identifiers: Identifiers) -> bool:
    """Add the identifiers of raw person records that share one; True if any was new."""
    cur.execute("select to_regclass('raw_apollo.people')")
    if cur.fetchone()[0] is None:
        return False
    linkedin = LINKEDIN_KEY_SQL.format(column="linkedin_url")
    cur.execute(
        "select distinct id, email, linkedin_url from raw_apollo.people "
        f"where id = any(%s) or lower(trim(email)) = any(%s) or {linkedin} = any(%s)",
        (
            sorted(identifiers.apollo_ids),
            sorted(identifiers.emails),
            sorted(identifiers.linkedin_keys),
        ),
    )
    grew = False
    for person_id, address, url in cur.fetchall():
        grew = (
            identifiers.add_record({"id": person_id, "email": address, "linkedin_url": url}) or grew
        )
    return grew


def _closure(cur, identifiers: Identifiers) -> None:
    """Follow shared identifiers through raw records and rejected lines to a fixed point."""
    while True:
        before = identifiers.needles()
        _grow_from_people(cur, identifiers)
        grow_from_rejected(cur, identifiers)
        if identifiers.needles() == before:
            return


@contextmanager
def _transaction(target: Target) -> Iterator:
    conn = connect(target, autocommit=False)
    try:
        with conn, conn.cursor() as cur:
            yield cur
    finally:
        conn.close()


def forget_person(
    target: Target,
    email: str | None = None,
    linkedin_url: str | None = None,
    apollo_id: str | None = None,
    requested_by: str = "cli",
    pipelines_dir: Path | None = None,
) -> DeletionOutcome:
    """Anonymise one person everywhere the project holds their personal data."""
    check_request(email, linkedin_url, apollo_id)
    subject = identity_keys(email, linkedin_url, apollo_id)
    if not subject:
        raise ValueError("a deletion request needs an email, a LinkedIn URL or an Apollo id")
    identifiers = _identifiers(email, linkedin_url, apollo_id)
    loader, transformer = loader_target(target), transformer_target(target)
    folder = pipelines_dir or state_dir() / "dlt"
    with ExitStack() as locks:
        pending: list[str] = []
        for dataset, pipelines in load_locks():
            locks.enter_context(pipeline_lock(loader, dataset_lock_name(dataset, loader)))
            pending += finish_pending_runs(pipelines, dataset, loader, pipelines_dir)
        with _transaction(loader) as cur:
            _closure(cur, identifiers)
        ids = {a for a in identifiers.apollo_ids if a}
        lead_ids = lead_id_map(ids)
        hashes = _suppression_hashes(subject, identifiers)
        with _transaction(target) as cur:
            request_id = _record_request(cur, sorted(subject.values())[0], requested_by, hashes)
            released = _release_assignments(cur, ids)
            events = _scrub_contact_events(cur, identifiers, lead_ids, hashes)
            _rekey_ops(cur, lead_ids)
            _delete_reply_analyses(cur, identifiers)
        with _transaction(loader) as cur:
            scrub = scrub_people(cur, ids)
            clear_staging(cur)
            events_scrubbed = scrub_events(cur, identifiers)
            cleared = sum(
                clear_rejected_payloads(cur, identifiers, schema)
                for schema in _quarantine_schemas(cur)
            )
        with _transaction(transformer) as cur:
            _anonymise_pool(cur, ids, lead_ids)
            _scrub_event_marts(cur, identifiers.emails, lead_ids)
            _delete_thread_rows(cur, identifiers, lead_ids)
            _empty_incremental_event_tables(cur)
        removed = files_naming(folder, identifiers.needles(), identifiers.named_in)
        for path in removed:
            path.unlink()
    outcome = DeletionOutcome(
        request_id,
        len(ids),
        scrub.people_rows,
        scrub.history_rows,
        cleared,
        released,
        len(hashes),
        events,
        len(pending),
        len(removed),
        events_scrubbed,
    )
    with _transaction(target) as cur:
        cur.execute(
            "update cis.deletion_requests set completed_at = now(), affected = %s "
            "where deletion_request_id = %s",
            (
                json.dumps(
                    {
                        "apollo_ids": outcome.apollo_ids,
                        "people_rows": outcome.people_rows_anonymised,
                        "history_rows": outcome.history_rows_deleted,
                        "rejected_payloads": outcome.rejected_payloads_cleared,
                        "assignments_released": outcome.assignments_released,
                        "contact_events": outcome.contact_events_scrubbed,
                        "pending_loads_finished": outcome.pending_loads_finished,
                        "pipeline_files_removed": outcome.pipeline_files_removed,
                        "vendor_events": outcome.vendor_events_scrubbed,
                    }
                ),
                request_id,
            ),
        )
    return outcome


def _quarantine_schemas(cur) -> list[str]:
    """Every raw schema with a quarantine table (Apollo's and each vendor's)."""
    cur.execute(
        "select table_schema from information_schema.tables "
        "where table_name = 'rejected_records' and table_schema like 'raw\\_%' order by 1"
    )
    return [row[0] for row in cur.fetchall()]


def _suppression_hashes(subject: dict[str, str], identifiers: Identifiers) -> set[tuple[str, str]]:
    """(kind, hash) of every identifier found, and of the pseudonyms the records will carry."""
    hashes = set(subject.items())
    for person_id in identifiers.apollo_ids:
        hashes.update(identity_keys(apollo_id=person_id).items())
        hashes.update(identity_keys(apollo_id=pseudonym(person_id)).items())
    for address in identifiers.emails:
        hashes.update(identity_keys(email=address).items())
    for key in identifiers.linkedin_keys:
        hashes.update(identity_keys(linkedin_url=key).items())
    return hashes


def _record_request(cur, subject_hash: str, requested_by: str, hashes: set[tuple[str, str]]) -> str:
    cur.execute(
        "insert into cis.deletion_requests (subject_key_hash, requested_by) "
        "values (%s, %s) returning deletion_request_id",
        (subject_hash, requested_by),
    )
    request_id = str(cur.fetchone()[0])
    for kind, value in sorted(hashes):
        cur.execute(
            "insert into cis.suppression_keys (key_hash, key_kind, deletion_request_id) "
            "values (%s, %s, %s) on conflict (key_hash) do nothing",
            (value, kind, request_id),
        )
    return request_id


def _release_assignments(cur, apollo_ids: set[str]) -> int:
    """Release active assignments recorded under any lead id the person ever had."""
    lead_ids = [str(deterministic_uuid("lead", person_id)) for person_id in apollo_ids]
    cur.execute(
        "update cis.lead_assignments set assignment_status = 'released', released_at = now(), "
        "release_reason = 'deletion_request' "
        "where assignment_status = 'active' and lead_id = any(%s::uuid[])",
        (lead_ids,),
    )
    return cur.rowcount


def _scrub_contact_events(
    cur, identifiers: Identifiers, lead_ids: dict[str, str], hashes: set[tuple[str, str]]
) -> int:
    """Contact events keep what happened, not the address: an event known only by the email
    keeps a lead id instead (the person's, or one derived from the hashed request)."""
    if lead_ids:
        fallback = min(lead_ids.values())
    else:
        fallback = str(deterministic_uuid("forgotten", min(h for _k, h in hashes)))
    cur.execute(
        "update cis.contact_events set email = null, lead_id = coalesce(lead_id, %s::uuid) "
        "where email is not null and lower(trim(email)) = any(%s)",
        (fallback, sorted(identifiers.emails)),
    )
    return cur.rowcount


def _rekey_ops(cur, lead_ids: dict[str, str]) -> None:
    """Lead ids in the cis tables follow the pseudonymised Apollo ids."""
    if not lead_ids:
        return
    for table in OPS_LEAD_ID_TABLES:
        cur.execute(
            sql.SQL(
                "update {} as t set lead_id = m.new_id from unnest(%s::uuid[], %s::uuid[]) "
                "as m(old_id, new_id) where t.lead_id = m.old_id"
            ).format(sql.Identifier("cis", table)),
            (list(lead_ids), list(lead_ids.values())),
        )


def _table_columns(cur, schema: str) -> dict[str, set[str]]:
    """Base tables of ``schema`` and their columns."""
    cur.execute(
        "select c.table_name, c.column_name from information_schema.columns as c "
        "inner join information_schema.tables as t on t.table_schema = c.table_schema "
        "and t.table_name = c.table_name and t.table_type = 'BASE TABLE' "
        "where c.table_schema = %s",
        (schema,),
    )
    tables: dict[str, set[str]] = {}
    for table, column in cur.fetchall():
        tables.setdefault(table, set()).add(column)
    return tables


def _delete_intermediate_rows(cur, ids: list[str], lead_ids: dict[str, str]) -> None:
    """The dbt intermediate tables are rebuilt from raw by the next build: the person's rows go."""
    for table, columns in _table_columns(cur, INTERMEDIATE_SCHEMA).items():
        relation = sql.Identifier(INTERMEDIATE_SCHEMA, table)
        if "lead_id" in columns:
            cur.execute(
                sql.SQL("delete from {} where lead_id = any(%s::uuid[])").format(relation),
                (list(lead_ids),),
            )
        if "apollo_person_id" in columns:
            cur.execute(
                sql.SQL("delete from {} where apollo_person_id = any(%s)").format(relation),
                (ids,),
            )


# Event mart columns that can name the person (a subject or link personalised with her name).
PERSONAL_EVENT_COLUMNS = ("lead_email", "vendor_lead_id", "subject", "clicked_url")


def _scrub_event_marts(cur, emails: set[str], lead_ids: dict[str, str]) -> None:
    """The person's rows of the event marts keep their keys, times and flags, not what names
    her (the next build rebuilds them from the scrubbed raw events the same way)."""
    for table, columns in _table_columns(cur, EVENT_MART_SCHEMA).items():
        cleared = [c for c in PERSONAL_EVENT_COLUMNS if c in columns]
        if not cleared or not {"lead_email", "lead_id"} <= columns:
            continue
        cur.execute(
            sql.SQL(
                "update {} set {} where lead_id = any(%s::uuid[]) "
                "or lower(trim(lead_email)) = any(%s)"
            ).format(
                sql.Identifier(EVENT_MART_SCHEMA, table),
                sql.SQL(", ").join(sql.SQL("{} = null").format(sql.Identifier(c)) for c in cleared),
            ),
            (list(lead_ids), sorted(emails)),
        )


def _delete_reply_analyses(cur, identifiers: Identifiers) -> None:
    """The analyzer's results and a person's labels hold the person's own words: they go."""
    for table in ("reply_analyses", "reply_labels"):
        cur.execute(
            sql.SQL(
                "delete from {} where (contact_kind = 'email' and contact_value = any(%s))"
                " or (contact_kind = 'linkedin' and contact_value = any(%s))"
            ).format(sql.Identifier("cis", table)),
            (sorted(identifiers.emails), sorted(identifiers.linkedin_keys)),
        )


def _delete_thread_rows(cur, identifiers: Identifiers, lead_ids: dict[str, str]) -> None:
    """The thread marts hold the person's messages, whose bodies name her: her rows go now, and
    the next build writes what the scrubbed raw events still say."""
    for table, columns in _table_columns(cur, THREAD_MART_SCHEMA).items():
        if not {"lead_id", "lead_key", "contact_key"} <= columns:
            continue
        cur.execute(
            sql.SQL(
                "delete from {} where lead_id = any(%s::uuid[]) or lead_key = any(%s)"
                " or contact_key = any(%s)"
            ).format(sql.Identifier(THREAD_MART_SCHEMA, table)),
            (list(lead_ids), sorted(identifiers.emails), sorted(identifiers.linkedin_keys)),
        )


def _empty_incremental_event_tables(cur) -> None:
    """The event staging and intermediate tables the incremental models keep (copies of raw
    rows, the person's among them) are emptied, and their state forgotten: the next build reads
    the scrubbed raw events again in full (docs/engagement.md, "Incremental builds")."""
    cur.execute("select to_regclass('intermediate.incremental_state')")
    if cur.fetchone()[0] is None:
        return
    cur.execute(
        "select t.table_schema, t.table_name from information_schema.tables as t "
        "join intermediate.incremental_state as s on s.model_name = t.table_name "
        "where t.table_schema in ('staging', 'intermediate') and t.table_type = 'BASE TABLE'"
    )
    tables = cur.fetchall()
    for schema, table in tables:
        cur.execute(sql.SQL("truncate {}").format(sql.Identifier(schema, table)))
    cur.execute(
        "delete from intermediate.incremental_state where model_name = any(%s)",
        ([table for _schema, table in tables],),
    )


def _anonymise_pool(cur, apollo_ids: set[str], lead_ids: dict[str, str]) -> None:
    """Take the person out of the marts now, not only at the next dbt build (as their owner)."""
    ids, pseudonyms = sorted(apollo_ids), [pseudonym(a) for a in sorted(apollo_ids)]
    if ids:
        _delete_intermediate_rows(cur, ids, lead_ids)
    tables = _table_columns(cur, "pool")
    if not ids or "dim_leads" not in tables:
        return
    cur.execute(
        sql.SQL(
            "update pool.dim_leads set {}, pool_status = 'do_not_contact', "
            "deleted_at = coalesce(deleted_at, now()) where apollo_person_ids && %s::text[]"
        ).format(
            sql.SQL(", ").join(
                sql.SQL("{} = null").format(sql.Identifier(c))
                for c in PERSONAL_LEAD_COLUMNS
                if c in tables["dim_leads"]
            )
        ),
        (ids,),
    )
    if "dim_lead_employment" in tables:
        cur.execute(
            "delete from pool.dim_lead_employment where lead_id = any(%s::uuid[])",
            (list(lead_ids),),
        )
    for table, columns in tables.items():
        _rekey_pool_table(cur, table, columns, ids, pseudonyms, lead_ids)


def _rekey_pool_table(
    cur,
    table: str,
    columns: set[str],
    ids: list[str],
    pseudonyms: list[str],
    lead_ids: dict[str, str],
) -> None:
    relation = sql.Identifier("pool", table)
    for column in ("lead_id", "alias_lead_id"):
        if column in columns:
            cur.execute(
                sql.SQL(
                    "update {r} as t set {c} = m.new_id from unnest(%s::uuid[], %s::uuid[]) "
                    "as m(old_id, new_id) where t.{c} = m.old_id"
                ).format(r=relation, c=sql.Identifier(column)),
                (list(lead_ids), list(lead_ids.values())),
            )
    if "apollo_person_id" in columns:
        cur.execute(
            sql.SQL(
                "update {} as t set apollo_person_id = m.pseudonym from unnest(%s::text[], "
                "%s::text[]) as m(apollo_id, pseudonym) where t.apollo_person_id = m.apollo_id"
            ).format(relation),
            (ids, pseudonyms),
        )
    if "apollo_person_ids" in columns:
        cur.execute(
            sql.SQL(
                "update {} set apollo_person_ids = array("
                "select coalesce(m.pseudonym, a) from unnest(apollo_person_ids) "
                "with ordinality as u(a, n) left join unnest(%s::text[], %s::text[]) "
                "as m(apollo_id, pseudonym) on m.apollo_id = u.a order by u.n) "
                "where apollo_person_ids && %s::text[]"
            ).format(relation),
            (ids, pseudonyms, ids),
        )
