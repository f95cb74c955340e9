"""`cis replies review` and `cis replies relabel`: the replies the analyzer was unsure of, and a
person's labels, which win over the analyzer's (docs/replies.md, "Review")."""

from __future__ import annotations

import getpass
from dataclasses import dataclass

from cis.db import Target, connect, relation_exists
from cis.jobs.analyze_replies import INBOUND_MESSAGES
from cis.transform import BUILD_LOCK
from detectors.replies.labels import INTENTS, OBJECTION_TYPES, SENTIMENTS
from ingestion.pipeline import pipeline_lock

REPLIES = "threads.fct_replies"
REVIEW_BELOW = 0.5


class UnknownReply(LookupError):
    """No inbound message has this key."""


@dataclass(frozen=True)
class ReviewRow:
    message_key: str
    client: str | None
    channel: str
    replied_at: str
    intent: str | None
    objection_type: str | None
    confidence: float | None
    text: str


_REVIEW = f"""
    select m.message_key, c.client_slug, r.channel, r.replied_at::text, r.intent, r.objection_type,
        r.confidence, left(regexp_replace(coalesce(r.new_text, ''), '\\s+', ' ', 'g'), 160)
    from {REPLIES} as r
    join threads.fct_thread_messages as m on m.thread_message_id = r.reply_id
    left join cis.clients as c on c.client_id = r.client_id
    where r.label_source = 'analyzer' and r.confidence < %s
    order by r.confidence, r.replied_at desc, m.message_key
    limit %s
"""


def waiting_for_review(
    target: Target, below: float = REVIEW_BELOW, limit: int = 50
) -> list[ReviewRow]:
    """The analysed replies with a confidence under ``below`` that no person has labelled yet,
    least sure first (as of the last build)."""
    conn = connect(target)
    try:
        with conn.cursor() as cur:
            if not relation_exists(cur, REPLIES):
                return []
            cur.execute(_REVIEW, (below, limit))
            return [ReviewRow(*row) for row in cur.fetchall()]
    finally:
        conn.close()


def count_waiting(target: Target, below: float = REVIEW_BELOW) -> int:
    conn = connect(target)
    try:
        with conn.cursor() as cur:
            if not relation_exists(cur, REPLIES):
                return 0
            cur.execute(
                f"select count(*) from {REPLIES} where label_source = 'analyzer' and confidence < %s",
                (below,),
            )
            return cur.fetchone()[0]
    finally:
        conn.close()


def _check(value: str | None, allowed: tuple[str, ...], name: str) -> None:
    if value is not None and value not in allowed:
        raise ValueError(f"{name} {value!r} is not one of: {', '.join(allowed)}")


def relabel(
    target: Target,
    message_key: str,
    intent: str | None = None,
    sentiment: str | None = None,
    objection_type: str | None = None,
    note: str | None = None,
    labelled_by: str | None = None,
) -> None:
    """Keep a person's labels for one reply (fields left None keep the analyzer's). They reach
    the marts on the next build and stay when the analyzer runs again."""
    _check(intent, INTENTS, "intent")
    _check(sentiment, SENTIMENTS, "sentiment")
    _check(objection_type, OBJECTION_TYPES, "objection type")
    if intent is None and sentiment is None and objection_type is None:
        raise ValueError("give at least one of intent, sentiment, objection type")
    with pipeline_lock(target, BUILD_LOCK):
        conn = connect(target, autocommit=False)
        try:
            with conn, conn.cursor() as cur:
                cur.execute(
                    f"select contact_kind, contact_key, message_at from {INBOUND_MESSAGES}"
                    " where message_key = %s",
                    (message_key,),
                )
                found = cur.fetchone()
                if found is None:
                    raise UnknownReply(f"no reply has the key {message_key!r}")
                cur.execute(
                    "insert into cis.reply_labels as l (message_key, contact_kind, contact_value,"
                    " intent, sentiment, objection_type, message_at, labelled_by, note)"
                    " values (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    " on conflict (message_key) do update set"
                    " intent = coalesce(excluded.intent, l.intent),"
                    " sentiment = coalesce(excluded.sentiment, l.sentiment),"
                    " objection_type = coalesce(excluded.objection_type, l.objection_type),"
                    " labelled_by = excluded.labelled_by, note = coalesce(excluded.note, l.note),"
                    " labelled_at = clock_timestamp()",
                    (
                        message_key,
                        *found[:2],
                        intent,
                        sentiment,
                        objection_type,
                        found[2],
                        labelled_by or getpass.getuser(),
                        note,
                    ),
                )
        finally:
            conn.close()
