"""Smartlead: webhook deliveries (both documented dialects), campaign statistics rows and
campaigns with their sequences and variants, from landing files into ``raw_smartlead``.

Dialect A names the event in ``event_type`` (EMAIL_OPEN ...) with ``event_timestamp``;
dialect B in ``event`` (EMAIL_OPENED ...) with ``timestamp`` and a nested ``lead{}``. Both
load into ``webhook_events`` as sent; staging normalises the names. Webhooks carry no A/B
variant: statistics rows do (``seq_variant_id``), joined on ``stats_id``.
"""

from __future__ import annotations

from ingestion.events import EventFacts, EventKind, digest
from ingestion.events.facts import dig, event_time, first_text, lower_email, snapshot_facts

DATASET = "raw_smartlead"


def describe_webhook(body: dict, receipt: dict) -> EventFacts:
    """Key: ``X-Request-Id`` when the receiver recorded one, else the hash the contracts name."""
    name = first_text(body, ("event_type",), ("event",))
    occurred_at, occurred_text = event_time(body, ("event_timestamp",), ("timestamp",))
    lead_email = lower_email(
        first_text(body, ("sl_lead_email",), ("lead_email",), ("lead", "email"), ("to_email",))
    )
    campaign = first_text(body, ("campaign_id",))
    request_id = first_text(receipt, ("request_id",))
    key = request_id or digest(
        "smartlead",
        name,
        first_text(body, ("stats_id",)) or first_text(body, ("sl_email_lead_id",), ("lead_id",)),
        lead_email if not first_text(body, ("stats_id",)) else None,
        campaign,
        first_text(body, ("sequence_number",)),
        occurred_text,
        first_text(body, ("reply_message", "message_id")) if name and "REPL" in name else None,
    )
    return EventFacts(key, name, campaign, lead_email, occurred_at, occurred_text)


def describe_statistics(body: dict, receipt: dict) -> EventFacts:
    """One statistics row; versions of it (opens, replies added later) share ``stats_id``."""
    stats_id = first_text(body, ("stats_id",))
    sent_at, sent_text = event_time(body, ("sent_time",))
    for later in ("open_time", "click_time", "reply_time"):
        event_time(body, (later,))  # a time that is not a time is a problem here too
    return EventFacts(
        event_key=digest("smartlead_statistics", stats_id),
        event_name="statistics_row",
        # An API row has no campaign of its own: the pull records which it asked for.
        campaign_id=first_text(body, ("campaign_id",)) or first_text(receipt, ("campaign_id",)),
        lead_email=lower_email(first_text(body, ("lead_email",))),
        occurred_at=sent_at,
        occurred_at_text=sent_text,
        version_of=stats_id or None,
    )


def describe_campaign(body: dict, receipt: dict) -> EventFacts:
    """One campaign snapshot with its sequences (``GET /campaigns/{id}`` + ``/sequences``)."""
    return snapshot_facts(body, "smartlead_campaign", ("updated_at",), ("created_at",))


KINDS = (
    EventKind(
        "smartlead/webhooks",
        "webhook_events",
        "smartlead_webhook",
        describe_webhook,
        secret_fields=("secret_key",),
    ),
    EventKind("smartlead/statistics", "statistics", "smartlead_statistics", describe_statistics),
    EventKind("smartlead/campaigns", "campaigns", "smartlead_campaign", describe_campaign),
)
__all__ = ["DATASET", "KINDS", "dig"]
