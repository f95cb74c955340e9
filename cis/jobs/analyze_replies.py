"""`cis replies analyze`: the reply analyzer over the inbound messages, incrementally.

Reads `intermediate.int_inbound_messages` (what the last dbt build staged from the raw event
tables), analyses the messages that have no result yet, whose body changed, or whose result an
older analyzer version wrote, and writes `cis.reply_analyses`, which the thread marts read on the
next build (docs/replies.md, "In the warehouse"). Results of messages that are gone (a deletion
request, a load read again) are deleted. It holds the build lock while it writes, so a build
never reads half a run and the incremental models see every result once.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from psycopg2.extras import execute_values

from cis.db import Target, connect, relation_exists
from cis.transform import BUILD_LOCK
from detectors.replies.analyzer import analyze_prepared, try_prepare
from detectors.replies.labels import ANALYZER_VERSION, ReplyAnalysis
from detectors.replies.llm import LlmBackend, analyze_with_llm
from ingestion.pipeline import pipeline_lock

INBOUND_MESSAGES = "intermediate.int_inbound_messages"
LOCAL = "local"
BATCH = 2000

_TO_ANALYSE = f"""
    select m.message_key, m.contact_kind, m.contact_key, m.body_hash, m.subject, m.body_text,
        m.body_html, m.sender, m.message_at
    from {INBOUND_MESSAGES} as m
    left join cis.reply_analyses as a on a.message_key = m.message_key
    where (m.body_text is not null or m.body_html is not null)
        and (%(everything)s or a.message_key is null or a.body_hash <> m.body_hash
            or a.analyzer_version <> %(version)s)
    order by m.message_key
"""

_UPSERT = """
    insert into cis.reply_analyses as a (
        message_key, contact_kind, contact_value, body_hash, analyzer_version, backend, intent,
        sentiment, sentiment_score, objection_type, questions, referral_email, ooo_return_date,
        confidence, new_text, quoted_text, message_at
    ) values %s
    on conflict (message_key) do update set
        contact_kind = excluded.contact_kind, contact_value = excluded.contact_value,
        body_hash = excluded.body_hash, analyzer_version = excluded.analyzer_version,
        backend = excluded.backend, intent = excluded.intent, sentiment = excluded.sentiment,
        sentiment_score = excluded.sentiment_score, objection_type = excluded.objection_type,
        questions = excluded.questions, referral_email = excluded.referral_email,
        ooo_return_date = excluded.ooo_return_date, confidence = excluded.confidence,
        new_text = excluded.new_text, quoted_text = excluded.quoted_text,
        message_at = excluded.message_at, analyzed_at = clock_timestamp()
"""


@dataclass(frozen=True)
class AnalyzeOutcome:
    """What one run did."""

    analysed: int
    unreadable: int  # could not be read: fallback labels with confidence 0, logged
    removed: int  # results of messages that are no longer there
    by_intent: dict[str, int]


def _batches(cur, size: int) -> Iterator[list[tuple]]:
    while rows := cur.fetchmany(size):
        yield rows


def _record(row: tuple) -> dict:
    key, _kind, _contact, _hash, subject, text, html, sender, received_at = row
    body, body_format = (html, "html") if html else (text, "text")
    return {
        "id": key,
        "subject": subject or "",
        "body": body or "",
        "body_format": body_format,
        "from_email": sender or "",
        "received_at": received_at,
    }


def _analysed(
    prepared: list, backend: LlmBackend | None, client: object | None
) -> list[tuple[ReplyAnalysis, str]]:
    if backend is None:
        return [(result, LOCAL) for result in analyze_prepared(prepared)]
    return analyze_with_llm(prepared, backend, client)


def analyze_replies(
    target: Target,
    everything: bool = False,
    batch: int = BATCH,
    backend: LlmBackend | None = None,
    client: object | None = None,
) -> AnalyzeOutcome:
    """Analyse what is new or changed (``everything``: every message) and store the results.

    ``backend``: the optional LLM backend (None: the local analyzer); its results carry its own
    version, so switching backends analyses everything again. ``client``: an SDK client to use
    instead of one made from ``backend`` (tests).
    """
    version = backend.version if backend is not None else ANALYZER_VERSION
    analysed = unreadable = removed = 0
    by_intent: dict[str, int] = {}
    with pipeline_lock(target, BUILD_LOCK):
        reader, writer = connect(target, autocommit=False), connect(target, autocommit=False)
        try:
            with reader.cursor() as probe:
                if not relation_exists(probe, INBOUND_MESSAGES):
                    return AnalyzeOutcome(0, 0, 0, {})
            with reader.cursor(name="inbound_messages") as cur, writer.cursor() as out:
                cur.itersize = batch
                cur.execute(_TO_ANALYSE, {"everything": everything, "version": version})
                for rows in _batches(cur, batch):
                    prepared = [try_prepare(_record(row)) for row in rows]
                    results = _analysed(prepared, backend, client)
                    values = []
                    for row, item, (result, source) in zip(rows, prepared, results, strict=True):
                        unreadable += item is None
                        by_intent[result.intent] = by_intent.get(result.intent, 0) + 1
                        values.append(
                            (
                                row[0],
                                row[1],
                                row[2],
                                row[3],
                                result.analyzer_version,
                                source,
                                result.intent,
                                result.sentiment,
                                result.sentiment_score,
                                result.objection_type,
                                json.dumps(result.questions),
                                result.referral_email,
                                result.ooo_return_date,
                                result.confidence,
                                item.parts.new_text if item else "",
                                item.parts.quoted if item else "",
                                row[8],
                            )
                        )
                    execute_values(out, _UPSERT, values, page_size=1000)
                    analysed += len(values)
                out.execute(
                    f"delete from cis.reply_analyses as a where not exists "
                    f"(select 1 from {INBOUND_MESSAGES} as m where m.message_key = a.message_key)"
                )
                removed = out.rowcount
            writer.commit()
        finally:
            reader.close()
            writer.close()
    return AnalyzeOutcome(analysed, unreadable, removed, dict(sorted(by_intent.items())))
