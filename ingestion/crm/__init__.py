"""Standalone CRM: meetings, deals and deal stage changes from CSV files in the landing
folder's ``crm/`` (``meetings*.csv``, ``deals*.csv``, ``stage_changes*.csv``), for agencies
without a CRM the project reads, into ``raw_crm``.

The columns are documented in ``ingestion.crm.columns`` and docs/crm.md. Each row of a meetings
or deals file is a snapshot of one record, keyed by its id: the newest row (``updated_at``, then
the last loaded) is what staging reads, and the same row in two exports is stored once. A stage
change is keyed by its deal, stage and time, so a history exported again adds nothing.
"""

from __future__ import annotations

from ingestion.events import EventFacts, EventKind, digest
from ingestion.events.facts import event_time, first_text, lower_email

DATASET = "raw_crm"


def _snapshot(
    body: dict, kind: str, object_id: str | None, *time_paths: tuple[str, ...]
) -> EventFacts:
    at, at_text = event_time(body, *time_paths)
    return EventFacts(
        event_key=digest(kind, object_id),
        event_name=kind.split("_", 1)[1],
        campaign_id=object_id,
        lead_email=lower_email(first_text(body, ("contact_email",))),
        occurred_at=at,
        occurred_at_text=at_text,
        version_of=object_id,
        lead_linkedin_url=first_text(body, ("contact_linkedin_url",)),
    )


def describe_meeting(body: dict, receipt: dict) -> EventFacts:
    meeting = first_text(body, ("meeting_id",))
    return _snapshot(body, "crm_meeting", meeting, ("updated_at",), ("booked_at",))


def describe_deal(body: dict, receipt: dict) -> EventFacts:
    deal = first_text(body, ("deal_id",))
    return _snapshot(body, "crm_deal", deal, ("updated_at",), ("created_at",))


def describe_stage_change(body: dict, receipt: dict) -> EventFacts:
    key = digest(
        first_text(body, ("deal_id",)),
        first_text(body, ("stage",)),
        first_text(body, ("changed_at",)),
    )
    return _snapshot(body, "crm_stage_change", key, ("changed_at",))


KINDS = (
    EventKind("crm/meetings", "meetings", "crm_meeting", describe_meeting),
    EventKind("crm/deals", "deals", "crm_deal", describe_deal),
    EventKind("crm/stage_changes", "deal_stage_changes", "crm_stage_change", describe_stage_change),
)
