"""Apollo: people search, enrichment (bulk_match) and organizations, from the API or landing files.

Both sources write the same raw tables in the ``raw_apollo`` dataset:

- ``people``: one row per person record (key ``_record_id``: where it was read plus a hash of
  what it said), every field kept, so two records of one person in one file are two rows;
- ``organizations``: the organization object of each person record (key ``_record_id``);
- ``employment_history``: one row per history entry of each person record;
- ``search_results``: the thin rows people search returned, per client ICP;
- ``rejected_records``: every refused payload with its reason, file and line.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
from dlt.sources import DltResource

from cis.clients import Client
from ingestion.apollo import helpers, settings
from ingestion.apollo.queries import icp_query, sliced_search
from ingestion.apollo.records import (
    PullMeta,
    organization_lookup_domain,
    person_problems,
    split_person,
    suppression_hashes,
    with_organization,
)
from ingestion.apollo.suppression import withhold_if_suppressed
from ingestion.landing import LandingLine, landing_files, read_jsonl
from ingestion.quarantine import Rejection
from ingestion.values import value_problem

LANDING_KIND = "apollo/people"
BATCH_SIZE = 500  # envelopes per item handed between resources
DATASET = "raw_apollo"


@dataclass
class LoadCounts:
    """Counted while the source is extracted (the source functions themselves do no I/O)."""

    people: int = 0
    rejected: int = 0
    suppressed: int = 0
    files: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    fields_seen: set[str] = field(default_factory=set)  # every field that carried a value

    def see(self, payload: dict) -> None:
        self.fields_seen.update(k for k, v in payload.items() if _has_value(v))
        organization = payload.get("organization")
        if isinstance(organization, dict):
            self.fields_seen.update(
                f"organization.{k}" for k, v in organization.items() if _has_value(v)
            )


def _has_value(value: object) -> bool:
    return value not in (None, "", [], {})


def _envelope(
    payload: dict,
    meta: PullMeta,
    suppressed: frozenset[str],
    counts: LoadCounts,
    kind: str = "person",
) -> dict:
    if suppressed and suppression_hashes(payload) & suppressed:
        # A deletion request covers this person (checked first: a record that would also be
        # rejected must not keep its payload in quarantine either).
        counts.suppressed += 1
        rejection = Rejection(
            kind,
            "suppressed by a deletion request (personal data not kept)",
            meta.source_file,
            meta.source_line,
            None,
        )
        counts.rejections.append(rejection)
        return {"rejection": rejection}
    problem = value_problem(payload) if meta.source == "api" else None  # landing: checked on read
    problems = [problem] if problem else person_problems(payload)
    if problems:
        rejection = Rejection(
            kind, "; ".join(problems), meta.source_file, meta.source_line, _dump(payload)
        )
        counts.rejected += 1
        counts.rejections.append(rejection)
        return {"rejection": rejection}
    counts.people += 1
    counts.see(payload)
    person, organization, history = split_person(payload, meta)
    return {"person": person, "organization": organization, "history": history}


def _fill_organizations(
    api: helpers.ApolloClient, people: list[dict], seen: dict[str, dict | None]
) -> list[dict]:
    """Enrich, by domain and 10 at a time, the organizations the people came without.

    Each domain is asked once per run (``seen`` remembers answers, misses included).
    """
    domains = {d for d in map(organization_lookup_domain, people) if d and d not in seen}
    ordered = sorted(domains)
    for start in range(0, len(ordered), settings.ORGANIZATION_BULK_SIZE):
        asked = ordered[start : start + settings.ORGANIZATION_BULK_SIZE]
        seen.update(dict.fromkeys(asked))
        for organization in helpers.bulk_enrich_organizations(api, asked):
            domain = str(organization.get("primary_domain") or "").lower()
            if domain in seen:
                seen[domain] = organization
    filled = []
    for person in people:
        domain = organization_lookup_domain(person)
        organization = seen.get(domain) if domain else None
        filled.append(with_organization(person, organization) if organization else person)
    return filled


def batches(items: Iterable[dict], size: int) -> Iterator[list[dict]]:
    """Lists of up to ``size`` items, in order."""
    iterator = iter(items)
    while batch := list(itertools.islice(iterator, size)):
        yield batch


def _dump(payload: Any) -> str:
    return json.dumps(payload, default=str)


def _split_resources(payloads: DltResource) -> list[DltResource]:
    """The raw tables every Apollo source writes, fed from batches (lists) of envelopes.

    Batches, not single items, flow between the resources: dlt's per-item overhead is what
    bounds the load rate otherwise.
    """
    now = datetime.now(tz=UTC)
    materialized: list[bool] = []

    @dlt.transformer(
        data_from=payloads,
        name="people",
        primary_key="_record_id",
        write_disposition="merge",
        columns=settings.columns(settings.PERSON_COLUMNS),
    )
    def people(envelopes: list[dict]) -> Iterator[list[dict]]:
        if rows := [e["person"] for e in envelopes if "person" in e]:
            yield rows

    @dlt.transformer(
        data_from=payloads,
        name="organizations",
        primary_key="_record_id",
        write_disposition="merge",
        columns=settings.columns(settings.ORGANIZATION_COLUMNS),
    )
    def organizations(envelopes: list[dict]) -> Iterator[list[dict]]:
        if rows := [e["organization"] for e in envelopes if e.get("organization")]:
            yield rows

    @dlt.transformer(
        data_from=payloads,
        name="employment_history",
        primary_key=("_record_id", "entry_index"),
        write_disposition="merge",
        columns=settings.columns(settings.EMPLOYMENT_COLUMNS),
    )
    def employment_history(envelopes: list[dict]) -> Iterator[list[dict]]:
        if rows := [row for e in envelopes for row in e.get("history") or ()]:
            yield rows

    @dlt.transformer(
        data_from=payloads,
        name="rejected_records",
        primary_key="rejection_id",
        write_disposition="merge",
        columns=settings.columns(settings.REJECTED_COLUMNS),
    )
    def rejected_records(envelopes: list[dict]) -> Iterator[Any]:
        if not materialized:
            # A load without a single rejection still creates the (empty) quarantine table, so
            # that what reads it (dbt's source tests, `cis quarantine`) finds it.
            materialized.append(True)
            yield dlt.mark.materialize_table_schema()
        if rows := [e["rejection"].to_row(now) for e in envelopes if "rejection" in e]:
            yield rows

    return [people, organizations, employment_history, rejected_records]


@dlt.source(name="apollo_landing", max_table_nesting=0)
def apollo_landing_source(
    landing_dir: str,
    suppressed: Collection[str] = (),
    counts: LoadCounts | None = None,
) -> Sequence[DltResource]:
    """Load ``apollo/people/*.jsonl`` from a landing folder (one person object per line)."""
    root = Path(landing_dir)
    suppressed = frozenset(suppressed)
    tally = counts if counts is not None else LoadCounts()

    @dlt.resource(name="apollo_person_payloads", selected=False)
    def person_payloads() -> Iterator[list[dict]]:
        yield from batches(envelopes(), BATCH_SIZE)

    def envelopes() -> Iterator[dict]:
        loaded_at = datetime.now(tz=UTC)
        for path in landing_files(root, LANDING_KIND):
            tally.files += 1
            relative = str(path.relative_to(root))
            for item in read_jsonl(path, root, "apollo_person"):
                if isinstance(item, Rejection):
                    item = withhold_if_suppressed(item, suppressed)
                    tally.rejected += 1
                    tally.rejections.append(item)
                    yield {"rejection": item}
                    continue
                line: LandingLine = item
                meta = PullMeta(
                    f"landing:{relative}", None, "landing", relative, line.source_line, loaded_at
                )
                yield _envelope(line.payload, meta, suppressed, tally, "apollo_person")

    return _split_resources(person_payloads)


@dlt.source(name="apollo", max_table_nesting=0)
def apollo_source(
    clients: Sequence[Client],
    known_person_ids: Collection[str] = (),
    suppressed: Collection[str] = (),
    api_key: str = dlt.secrets.value,
    base_url: str = settings.DEFAULT_BASE_URL,
    counts: LoadCounts | None = None,
    stats: helpers.ApolloStats | None = None,
    sleep: Callable[[float], None] = time.sleep,
    enrich_organizations: bool = True,
) -> Sequence[DltResource]:
    """Search Apollo with each active client's ICP and enrich the people not yet in the pool.

    Parameters
    ----------
    clients:
        Agency clients; each active client's ICP becomes one search (sliced when it exceeds
        Apollo's 500-page cap).
    known_person_ids:
        Apollo ids already in the pool: they are not enriched again (enrichment costs credits).
    suppressed:
        Hashed identity keys from deletion requests; such people are never loaded.
    """
    tally = counts if counts is not None else LoadCounts()
    run_stats = stats if stats is not None else helpers.ApolloStats()
    known = set(known_person_ids)
    suppressed = frozenset(suppressed)
    organizations_seen: dict[str, dict | None] = {}  # domain -> enriched organization (or none)

    def client() -> helpers.ApolloClient:
        return helpers.ApolloClient(api_key, base_url, stats=run_stats, sleep=sleep)

    @dlt.resource(
        name="search_results",
        primary_key=("id", "client_slug"),
        write_disposition="merge",
        columns=settings.columns(settings.SEARCH_RESULT_COLUMNS),
    )
    def search_results() -> Iterator[list[dict]]:
        api = client()
        for customer in clients:
            if customer.status != "active":
                continue
            for _slice, page in sliced_search(api, icp_query(customer.icp)):
                searched_at = datetime.now(tz=UTC)
                found = [p for p in page.get("people") or [] if isinstance(p, dict) and p.get("id")]
                # Deletion requests: such people are neither stored nor enriched (only counted).
                kept = [p for p in found if not (suppressed and suppression_hashes(p) & suppressed)]
                tally.suppressed += len(found) - len(kept)
                rows = [
                    {**person, "client_slug": customer.slug, "searched_at": searched_at}
                    for person in kept
                ]
                run_stats.people_found += len(rows)
                if rows:
                    yield rows

    pull_started = datetime.now(tz=UTC)
    pull_id = f"api:{pull_started.isoformat()}"

    @dlt.transformer(data_from=search_results, name="apollo_person_payloads", selected=False)
    def person_payloads(rows: list[dict]) -> Iterator[list[dict]]:
        api = client()
        wanted: list[str] = []
        for row in rows:
            person_id = row["id"]
            if person_id in known:
                run_stats.enrichments_avoided += 1
                continue
            known.add(person_id)
            wanted.append(person_id)
        for start in range(0, len(wanted), settings.BULK_MATCH_SIZE):
            batch = wanted[start : start + settings.BULK_MATCH_SIZE]
            run_stats.enrichments_requested += len(batch)
            matched_at = datetime.now(tz=UTC)
            meta = PullMeta(pull_id, matched_at, "api")
            people = helpers.bulk_match(api, batch)
            if enrich_organizations:
                people = _fill_organizations(api, people, organizations_seen)
            if found := [
                _envelope(person, meta, suppressed, tally, "apollo_person") for person in people
            ]:
                yield found

    return [search_results, *_split_resources(person_payloads)]
