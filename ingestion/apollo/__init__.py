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

import json
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dlt
from dlt.sources import DltResource

from cis.clients import Client
from ingestion.apollo import helpers, landing_read, settings
from ingestion.apollo.arrow import json_hints
from ingestion.apollo.batch import RAW_SPECS, ArrowBatch, arrow_batch
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
from ingestion.progress import FileSlice, unread_slices
from ingestion.quarantine import Rejection
from ingestion.values import value_problem

LANDING_KIND = "apollo/people"
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


def _dump(payload: Any) -> str:
    return json.dumps(payload, default=str)


def _split_resources(batches: DltResource, write_disposition: str) -> list[DltResource]:
    """The raw tables every Apollo source writes, fed by a resource of ``ArrowBatch`` items.

    Each batch holds one Arrow table per raw table (``ingestion.apollo.arrow``), loaded with
    ``COPY`` (``file_format="csv"``); the fields no typed column names get json hints.
    """
    now = datetime.now(tz=UTC)
    materialized: list[bool] = []

    def table(name: str, key: str | tuple[str, ...]) -> DltResource:
        def rows(batch: ArrowBatch) -> Iterator[Any]:
            if name in batch.tables:
                arrow, extra = batch.tables[name]
                if extra:
                    yield dlt.mark.with_hints(arrow, dlt.mark.make_hints(columns=json_hints(extra)))
                else:
                    yield arrow

        return dlt.transformer(
            rows,
            data_from=batches,
            name=name,
            primary_key=key,
            write_disposition=write_disposition,
            file_format="csv",
            columns=settings.columns(RAW_SPECS[name]),
        )

    @dlt.transformer(
        data_from=batches,
        name="rejected_records",
        primary_key="rejection_id",
        write_disposition="merge",
        columns=settings.columns(settings.REJECTED_COLUMNS),
    )
    def rejected_records(batch: ArrowBatch) -> Iterator[Any]:
        if not materialized:
            # A load without a single rejection still creates the (empty) quarantine table, so
            # that what reads it (dbt's source tests, `cis quarantine`) finds it.
            materialized.append(True)
            yield dlt.mark.materialize_table_schema()
        if batch.rejections:
            yield [rejection.to_row(now) for rejection in batch.rejections]

    return [
        table("people", "_record_id"),
        table("organizations", "_record_id"),
        table("employment_history", ("_record_id", "entry_index")),
        rejected_records,
    ]


@dlt.source(name="apollo_landing", max_table_nesting=0)
def apollo_landing_source(
    landing_dir: str,
    slices: Sequence[FileSlice] | None = None,
    suppressed: Collection[str] = (),
    counts: LoadCounts | None = None,
) -> Sequence[DltResource]:
    """Load the unread ``slices`` of ``apollo/people/*.jsonl`` (one person object per line).

    Appended: ``ingestion.progress`` makes each line read once (``cis.jobs.ingest`` finds the
    slices and records the progress). Without ``slices``, every file is read from the start.
    Large reads run in worker processes (``ingestion.apollo.landing_read``).
    """
    root = Path(landing_dir)
    suppressed = frozenset(suppressed)
    tally = counts if counts is not None else LoadCounts()

    @dlt.resource(name="apollo_person_batches", selected=False)
    def person_batches() -> Iterator[ArrowBatch]:
        yield ArrowBatch()  # the quarantine table is created even when nothing is rejected
        pieces = slices if slices is not None else unread_slices(root, LANDING_KIND, {})
        chunks = []
        for piece in pieces:
            tally.files += 1
            planned, rejection = landing_read.plan(piece, root, "apollo_person")
            chunks += planned
            if rejection is not None:
                rejection = withhold_if_suppressed(rejection, suppressed)
                tally.rejected += 1
                tally.rejections.append(rejection)
                yield ArrowBatch(rejections=[rejection])
        loaded_at = datetime.now(tz=UTC)
        for result in landing_read.read_chunks(chunks, suppressed, loaded_at, "apollo_person"):
            tally.people += result.people
            tally.rejected += result.rejected
            tally.suppressed += result.suppressed
            tally.fields_seen |= result.fields_seen
            for batch in result.batches:
                tally.rejections += batch.rejections
                yield batch

    return _split_resources(person_batches, "append")


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
                yield arrow_batch(found)

    return [search_results, *_split_resources(person_payloads, "merge")]
