"""Salesforge: webhook deliveries and sequences (legacy and multichannel shapes), from landing
files into ``raw_salesforge``.

Webhooks are registered per type; the body is ``webhookInfo{id, eventTime, type}`` with the
email in ``sequenceEmail`` and the step in ``emailSentData.step``. ``webhookInfo.id`` names the
subscription, not the event, so the key is a hash of the fields the contracts name.
"""

from __future__ import annotations

from ingestion.events import EventFacts, EventKind, digest
from ingestion.events.facts import event_time, first_text, lower_email, snapshot_facts

DATASET = "raw_salesforge"


def describe_webhook(body: dict, receipt: dict) -> EventFacts:
    name = first_text(body, ("webhookInfo", "type"), ("type",))
    occurred_at, occurred_text = event_time(body, ("webhookInfo", "eventTime"))
    key = digest(
        "salesforge",
        name,
        occurred_text,
        first_text(body, ("contact", "id")),
        first_text(body, ("sequenceEmail", "emailId")),
    )
    lead = first_text(body, ("contact", "email"), ("sequenceEmail", "toEmail"))
    return EventFacts(
        key,
        name,
        first_text(body, ("sequence", "id")),
        lower_email(lead),
        occurred_at,
        occurred_text,
    )


def describe_sequence(body: dict, receipt: dict) -> EventFacts:
    """One sequence snapshot: legacy (``seq_`` ids, ``steps``) or multichannel (``nodes``)."""
    return snapshot_facts(body, "salesforge_sequence", ("updatedAt",), ("createdAt",))


KINDS = (
    EventKind("salesforge/webhooks", "webhook_events", "salesforge_webhook", describe_webhook),
    EventKind("salesforge/sequences", "sequences", "salesforge_sequence", describe_sequence),
)
