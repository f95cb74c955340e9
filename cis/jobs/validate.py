"""``cis validate``: the just-in-time check before any touch, for one lead or a whole batch."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from psycopg2.extras import execute_values

from cis.clients import Client
from cis.db import Target, connect
from cis.jobs.frames import current_lead_id, read_assignments, read_events, read_leads
from cis.pool.validation import (
    ValidationResult,
    ValidationSettings,
    ValidationSummary,
    summarise,
    validate_batch,
    validate_lead,
)


@dataclass(frozen=True)
class BatchOutcome:
    run_id: str
    summary: ValidationSummary
    results: list[ValidationResult]


def validate_one(
    target: Target,
    client: Client,
    lead_id: str,
    channel: str,
    settings: ValidationSettings | None = None,
    now: datetime | None = None,
) -> ValidationResult:
    leads = read_leads(target)
    lead_id = current_lead_id(target, lead_id)
    match = leads[leads["lead_id"] == lead_id]
    if match.empty:
        raise LookupError(f"no lead {lead_id} in pool.dim_leads")
    return validate_lead(
        match.iloc[0].to_dict(),
        client,
        channel,
        read_assignments(target),
        read_events(target),
        now or datetime.now(tz=UTC),
        settings,
    )


def validate_assigned(
    target: Target,
    clients: Sequence[Client],
    channel: str,
    settings: ValidationSettings | None = None,
    now: datetime | None = None,
) -> BatchOutcome:
    """Validate every lead actively assigned to each client and record the results."""
    when = now or datetime.now(tz=UTC)
    leads, assignments, events = read_leads(target), read_assignments(target), read_events(target)
    results: list[ValidationResult] = []
    for client in clients:
        held = assignments[
            (assignments["client_id"] == str(client.client_id))
            & (assignments["assignment_status"] == "active")
        ]["lead_id"]
        batch = leads[leads["lead_id"].isin(set(held))]
        results.extend(validate_batch(batch, client, channel, assignments, events, when, settings))
    run_id = str(uuid.uuid4())
    by_slug = {c.slug: str(c.client_id) for c in clients}
    conn = connect(target)
    try:
        with conn.cursor() as cur:
            execute_values(
                cur,
                "insert into cis.validation_results (validation_run_id, lead_id, client_id, "
                "channel, is_allowed, failed_rules, validated_at) values %s",
                [
                    (
                        run_id,
                        r.lead_id,
                        by_slug[r.client_slug],
                        r.channel,
                        r.allowed,
                        [f.rule for f in r.failures],
                        when,
                    )
                    for r in results
                ],
            )
    finally:
        conn.close()
    return BatchOutcome(run_id, summarise(results), results)
