"""HubSpot (CRM v3): deals with their stage history, meetings, contacts and deal pipelines, from
landing files or the API into ``raw_hubspot``.

Every record is a snapshot of one CRM object: keyed by its ``id``, each content seen stored once
as a version (staging takes the newest). A record's time is its last-modified property, which
HubSpot names ``hs_lastmodifieddate`` on deals and meetings but ``lastmodifieddate`` on
contacts; ``updatedAt`` is the fallback. ``archived: true`` marks a deleted record: it is kept,
marked, never dropped. A contact carries the person's email, so deletion requests reach it.
"""

from __future__ import annotations

from ingestion.events import EventFacts, EventKind, EventProblem
from ingestion.events.facts import first_text, lower_email, snapshot_facts

DATASET = "raw_hubspot"


def _record(body: dict, kind: str, *time_paths: tuple[str, ...]) -> EventFacts:
    if first_text(body, ("id",)) is None:
        raise EventProblem(f"no id: not a HubSpot {kind.removeprefix('hubspot_')} record")
    return snapshot_facts(body, kind, *time_paths, ("updatedAt",), ("createdAt",))


def describe_deal(body: dict, receipt: dict) -> EventFacts:
    return _record(body, "hubspot_deal", ("properties", "hs_lastmodifieddate"))


def describe_meeting(body: dict, receipt: dict) -> EventFacts:
    return _record(body, "hubspot_meeting", ("properties", "hs_lastmodifieddate"))


def describe_contact(body: dict, receipt: dict) -> EventFacts:
    facts = _record(body, "hubspot_contact", ("properties", "lastmodifieddate"))
    email = lower_email(first_text(body, ("properties", "email")))
    linkedin = first_text(body, ("properties", "hs_linkedin_url"), ("properties", "linkedin_url"))
    return EventFacts(
        facts.event_key,
        facts.event_name,
        facts.campaign_id,
        email,
        facts.occurred_at,
        facts.occurred_at_text,
        facts.version_of,
        lead_linkedin_url=linkedin,
        lead_phone=first_text(body, ("properties", "mobilephone"), ("properties", "phone")),
    )


def describe_pipeline(body: dict, receipt: dict) -> EventFacts:
    return _record(body, "hubspot_pipeline")


KINDS = (
    EventKind("hubspot/deals", "deals", "hubspot_deal", describe_deal),
    EventKind("hubspot/meetings", "meetings", "hubspot_meeting", describe_meeting),
    EventKind("hubspot/contacts", "contacts", "hubspot_contact", describe_contact),
    EventKind("hubspot/pipelines", "pipelines", "hubspot_pipeline", describe_pipeline),
)
