"""HeyReach (LinkedIn): webhook deliveries from the landing kind ``linkedin/events`` into
``raw_heyreach``: connection requests and accepts, messages, replies, InMails, profile views.

The key is ``correlation_id``; a delivery without one (or without an event type, which
happens) is kept, keyed by a hash of its content.
"""

from __future__ import annotations

import json

from ingestion.events import EventFacts, EventKind, digest
from ingestion.events.facts import event_time, first_text, lower_email

DATASET = "raw_heyreach"


def describe_webhook(body: dict, receipt: dict) -> EventFacts:
    name = first_text(body, ("event_type",), ("eventType",), ("type",))
    occurred_at, occurred_text = event_time(body, ("timestamp",))
    key = first_text(body, ("correlation_id",)) or digest(
        "heyreach", json.dumps(body, sort_keys=True, ensure_ascii=False)
    )
    lead = first_text(body, ("lead", "email_address"), ("lead", "email"))
    return EventFacts(
        key,
        name.lower() if name else None,
        first_text(body, ("campaign", "id")),
        lower_email(lead),
        occurred_at,
        occurred_text,
        lead_linkedin_url=first_text(body, ("lead", "profile_url"), ("lead", "linkedin_url")),
    )


KINDS = (EventKind("linkedin/events", "webhook_events", "heyreach_webhook", describe_webhook),)
