"""The demo's thread lines: threads by status and outcome, reply intents and objection types
per client, the agency's response time, and the replies waiting for review."""

from __future__ import annotations

from dataclasses import dataclass

from cis.db import Target, cursor, relation_exists

THREADS = "threads.fct_conversation_threads"
REPLIES = "threads.fct_replies"
# Replies per client and label of one column (`skip`: a label not worth a line).
_PER_CLIENT = (
    "select coalesce(c.client_slug, '(unclaimed)'), r.{column}, count(*) from "
    + REPLIES
    + " as r left join cis.clients as c on c.client_id = r.client_id"
    " where r.{column} is not null and r.{column} <> {skip} group by 1, 2 order by 1, 3 desc, 2"
)


@dataclass(frozen=True)
class ThreadFigures:
    by_status_outcome: list[tuple[str, str, int]]
    intents_by_client: list[tuple[str, str, int]]
    objections_by_client: list[tuple[str, str, int]]
    # Over the threads where the agency answered; None where it never did.
    median_response_minutes: float | None
    threads_answered: int
    replies_by_status: list[tuple[str, int]]


def thread_figures(target: Target) -> ThreadFigures | None:
    with cursor(target) as cur:
        if not (relation_exists(cur, THREADS) and relation_exists(cur, REPLIES)):
            return None
        cur.execute(
            f"select status, outcome, count(*) from {THREADS} group by 1, 2 order by 3 desc, 1, 2"
        )
        by_status_outcome = cur.fetchall()
        cur.execute(_PER_CLIENT.format(column="intent", skip="''"))
        intents = cur.fetchall()
        cur.execute(_PER_CLIENT.format(column="objection_type", skip="'none'"))
        objections = cur.fetchall()
        cur.execute(
            "select percentile_cont(0.5) within group (order by agency_first_response_minutes),"
            f" count(agency_first_response_minutes) from {THREADS}"
        )
        median, answered = cur.fetchone()
        cur.execute(f"select analysis_status, count(*) from {REPLIES} group by 1 order by 1")
        statuses = cur.fetchall()
    return ThreadFigures(
        by_status_outcome,
        intents,
        objections,
        None if median is None else float(median),
        answered,
        statuses,
    )
