"""``cis validate``: the just-in-time check before any touch, for one lead or a whole batch."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from psycopg2.extras import execute_values

from cis.clients import Client
from cis.db import Target, connect, reader_target
from cis.jobs.frames import current_lead_id, read_held, read_lead, read_lead_history
from cis.pool.validation import (
    ValidationResult,
    ValidationSettings,
    ValidationSummary,
    summarise,
    validate_batch,
    validate_lead_rows,
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
    """Validate one lead for one client and channel: the just-in-time check before a touch.

    Reads only that lead's rows, each through an index (its alias, its ``dim_leads`` row, its
    assignments and its contact events), in one read-only snapshot; the result is the one the
    batch form gives the same lead.

    Raises
    ------
    LookupError
        When no lead in ``pool.dim_leads`` has (or had) ``lead_id``.
    """
    conn = connect(reader_target(target), autocommit=False)
    try:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
        lead = read_lead(conn, lead_id)
        if lead is None:
            raise LookupError(f"no lead {current_lead_id(target, lead_id, conn)} in pool.dim_leads")
        assignments, events = read_lead_history(conn, lead["lead_id"], lead["email"])
        conn.rollback()
    finally:
        conn.close()
    when = now or datetime.now(tz=UTC)
    return validate_lead_rows(lead, client, channel, assignments, events, when, settings)


def validate_assigned(
    target: Target,
    clients: Sequence[Client],
    channel: str,
    settings: ValidationSettings | None = None,
    now: datetime | None = None,
) -> BatchOutcome:
    """Validate every lead actively assigned to each client and record the results.

    Set-based: three queries read the held leads and their history whatever the pool's size,
    and each client's batch sees only its own leads' rows (every row is resolved to a current
    lead id by the query, so nothing is matched by email later).
    """
    when = now or datetime.now(tz=UTC)
    leads, assignments, events = read_held(
        reader_target(target), [str(c.client_id) for c in clients]
    )
    results: list[ValidationResult] = []
    for client in clients:
        held = set(
            assignments.loc[
                (assignments["client_id"] == str(client.client_id))
                & (assignments["assignment_status"] == "active"),
                "lead_id",
            ]
        )
        batch = leads[leads["lead_id"].isin(held)]
        results.extend(
            validate_batch(
                batch,
                client,
                channel,
                assignments[assignments["lead_id"].isin(held)],
                events[events["lead_id"].isin(held)],
                when,
                settings,
            )
        )
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
