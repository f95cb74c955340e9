"""Deterministic CRM outcomes for the demo: what happened after a positive reply.

A client whose ``campaigns.crm.pipeline_ids`` names a HubSpot pipeline gets HubSpot records in
the contracts' shapes (``hubspot/contacts``, ``hubspot/meetings``, ``hubspot/deals`` with
``propertiesWithHistory.dealstage``, ``hubspot/pipelines``); any other client keeps its meetings
and deals in the standalone CSV files (``crm/meetings.csv``, ``crm/deals.csv``,
``crm/stage_changes.csv``, docs/crm.md). The shapes the world sends are there too: contacts
that match their lead only by name and company domain (no email) or by LinkedIn URL (a personal
email), outcome spellings HubSpot pages vary ("NO SHOW", "Cancelled"), meetings moved once
(their start-time history), no-shows more likely the longer the wait from booking, past
meetings left scheduled, deals that stall in a stage, deals lost with a reason; and, when asked,
the bad input: a deal in a stage its pipeline does not list, a meeting with no contact, a stage
history listed out of order, a CSV export missing a column, a bad date and a value that is not
a number.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cis.clients import Client
from cis.generate.apollo_people import h64, rng_for
from cis.generate.event_files import EventWriter, dumps, iso_ms_z
from cis.generate.timeline import Lead

CONTACTS, MEETINGS, DEALS, PIPELINES = (
    "hubspot/contacts",
    "hubspot/meetings",
    "hubspot/deals",
    "hubspot/pipelines",
)
# HubSpot's pipelines of the contracts: (stage id, label, probability); the last two are won, lost.
HUBSPOT_PIPELINES: dict[str, tuple[str, list[tuple[str, str, str]]]] = {
    "default": (
        "Sales Pipeline",
        [
            ("appointmentscheduled", "Appointment Scheduled", "0.2"),
            ("qualifiedtobuy", "Qualified To Buy", "0.4"),
            ("presentationscheduled", "Presentation Scheduled", "0.6"),
            ("decisionmakerboughtin", "Decision Maker Bought-In", "0.8"),
            ("contractsent", "Contract Sent", "0.9"),
            ("closedwon", "Closed Won", "1.0"),
            ("closedlost", "Closed Lost", "0.0"),
        ],
    ),
    "785412963": (
        "Outbound - New Logo",
        [
            ("1052845733", "Meeting booked", "0.1"),
            ("1052845734", "Meeting held", "0.3"),
            ("1052845735", "Proposal sent", "0.6"),
            ("1052845736", "Closed won", "1.0"),
            ("1052845737", "Closed lost", "0.0"),
        ],
    ),
}
CSV_STAGES = ("Discovery", "Proposal", "Negotiation")  # then Won or Lost (status)
LOST_REASONS = (
    "Too expensive for this year",
    "Went with a competitor",
    "No budget",
    "Timing - revisit next quarter",
    "No decision made",
    "Champion left the company",
    "Project cancelled",
    "Went silent after the proposal",
    "Not a fit for their stack",
)
OUTCOME_SPELLINGS = {
    "COMPLETED": ("COMPLETED", "Completed"),
    "NO_SHOW": ("NO_SHOW", "NO SHOW", "No show"),
    "CANCELED": ("CANCELED", "CANCELLED", "Cancelled"),
    "RESCHEDULED": ("RESCHEDULED",),
    "SCHEDULED": ("SCHEDULED", "Scheduled"),
}
MEETING_COLUMNS = (
    "meeting_id",
    "client",
    "contact_email",
    "contact_linkedin_url",
    "contact_first_name",
    "contact_last_name",
    "company_domain",
    "booked_at",
    "scheduled_for",
    "outcome",
    "meeting_type",
    "confirmed",
    "reminder_sent",
    "reschedule_count",
    "originally_scheduled_for",
    "deal_id",
    "updated_at",
    "lead_source",  # a column the project does not know: kept in the payload
)
DEAL_COLUMNS = (
    "deal_id",
    "client",
    "deal_name",
    "stage",
    "status",
    "amount",
    "currency",
    "created_at",
    "close_date",
    "lost_reason",
    "contact_email",
    "updated_at",
)
STAGE_COLUMNS = ("deal_id", "stage", "changed_at", "changed_by")


@dataclass
class CrmSummary:
    """What the CRM part of the demo wrote."""

    meetings: dict[str, int] = field(default_factory=dict)  # by outcome as planted
    deals: dict[str, int] = field(default_factory=dict)  # by status
    contacts: dict[str, int] = field(default_factory=dict)  # by how they can be matched
    bad: dict[str, int] = field(default_factory=dict)
    files: list[str] = field(default_factory=list)

    @property
    def loader_rejections(self) -> int:
        """The planted bad input the loader refuses (the rest, the marts quarantine)."""
        return sum(self.bad.get(kind, 0) for kind in ("bad_date", "not_a_number", "missing_column"))


@dataclass(frozen=True)
class _Meeting:
    booked_at: datetime
    scheduled_for: datetime
    moved_from: datetime | None
    outcome: str  # HubSpot's value: COMPLETED, NO_SHOW, CANCELED, RESCHEDULED, SCHEDULED
    confirmed: bool | None
    reminded: bool | None


@dataclass(frozen=True)
class _Deal:
    created_at: datetime
    stages: list[tuple[int, datetime]]  # (stage index, entered at), in time order
    status: str  # open, won, lost
    amount: int
    currency: str
    lost_reason: str | None


class CrmOut:
    """Writes the CRM records of each positive reply, per client HubSpot or CSV."""

    def __init__(self, root: Path, seed: int, clients: list[Client], bad: bool = True) -> None:
        self.root = Path(root)
        self.seed = seed
        self.bad = bad
        self.pipelines = {
            c.slug: next((p for p in c.campaigns.crm.pipeline_ids if p in HUBSPOT_PIPELINES), None)
            for c in clients
        }
        self.writers = {k: EventWriter(root, k, "crm", 10**9) for k in (CONTACTS, MEETINGS, DEALS)}
        self.csv_rows: dict[str, list[dict[str, str]]] = {"meetings": [], "deals": [], "stages": []}
        self.seen: set[tuple[str, str]] = set()
        self.summary = CrmSummary()

    def positive_reply(self, lead: Lead, client: Client, replied_at: datetime) -> None:
        """The meeting a positive reply may lead to, and the deal the meeting may lead to."""
        if (lead.apollo_id, client.slug) in self.seen:
            return
        self.seen.add((lead.apollo_id, client.slug))
        rng = rng_for(self.seed, "crm", lead.k, client.slug)
        if rng.random() >= 0.8:
            return
        meeting = _plan_meeting(rng, replied_at)
        deal = _plan_deal(rng, meeting, len(self._stages(client))) if _held(meeting) else None
        _count(self.summary.meetings, meeting.outcome)
        if deal is not None:
            _count(self.summary.deals, deal.status)
        matched_by = _contact_kind(rng, lead)
        _count(self.summary.contacts, matched_by)
        if self.pipelines.get(client.slug):
            self._hubspot(lead, client, meeting, deal, matched_by, rng.random())
        else:
            self._csv(lead, client, meeting, deal, matched_by)

    def _stages(self, client: Client) -> list[str]:
        pipeline = self.pipelines.get(client.slug)
        if pipeline is None:
            return list(CSV_STAGES)
        return [s[0] for s in HUBSPOT_PIPELINES[pipeline][1][:-2]]

    def _id(self, *parts: object) -> str:
        return str(10_000_000_000 + h64(self.seed, "hubspot", *parts) % 89_999_999_999)

    def _hubspot(
        self,
        lead: Lead,
        client: Client,
        meeting: _Meeting,
        deal: _Deal | None,
        matched_by: str,
        spelling: float,
    ) -> None:
        pipeline = self.pipelines[client.slug]
        assert pipeline is not None
        contact_id = self._id("contact", lead.k, client.slug)
        meeting_id = self._id("meeting", lead.k, client.slug)
        deal_id = self._id("deal", lead.k, client.slug) if deal is not None else None
        email, linkedin = _contact_points(lead, matched_by)
        contact_props = {
            "email": email,
            "firstname": lead.first,
            "lastname": lead.last,
            "company": lead.company,
            "website": f"https://www.{lead.company_domain}/" if lead.company_domain else None,
            "jobtitle": lead.title,
            "hs_linkedin_url": linkedin,
            "createdate": iso_ms_z(meeting.booked_at),
            "lastmodifieddate": iso_ms_z(meeting.booked_at + timedelta(minutes=3)),
        }
        self._write(
            CONTACTS, meeting.booked_at, _object(contact_id, contact_props, meeting.booked_at)
        )
        spellings = OUTCOME_SPELLINGS[meeting.outcome]
        modified = max(meeting.scheduled_for, meeting.booked_at) + timedelta(hours=2)
        props = {
            "hs_timestamp": iso_ms_z(meeting.scheduled_for),
            "hs_meeting_title": f"{client.name} x {lead.company} - intro",
            "hs_meeting_start_time": iso_ms_z(meeting.scheduled_for),
            "hs_meeting_end_time": iso_ms_z(meeting.scheduled_for + timedelta(minutes=30)),
            "hs_meeting_outcome": spellings[int(spelling * len(spellings))],
            "hs_activity_type": "Discovery",
            "hs_meeting_source": "MEETINGS_PUBLIC",
            "hs_createdate": iso_ms_z(meeting.booked_at),
            "hs_lastmodifieddate": iso_ms_z(modified),
        }
        body = _object(meeting_id, props, meeting.booked_at, modified)
        if meeting.moved_from is not None:
            body["propertiesWithHistory"] = {
                "hs_meeting_start_time": [
                    {"value": iso_ms_z(meeting.scheduled_for), "timestamp": iso_ms_z(modified)},
                    {
                        "value": iso_ms_z(meeting.moved_from),
                        "timestamp": iso_ms_z(meeting.booked_at),
                    },
                ]
            }
        associations: dict[str, Any] = {"contacts": {"results": [{"id": contact_id}]}}
        if deal_id is not None:
            associations["deals"] = {"results": [{"id": deal_id}]}
        body["associations"] = associations
        self._write(MEETINGS, meeting.booked_at, body)
        if deal is None or deal_id is None:
            return
        stages = HUBSPOT_PIPELINES[pipeline][1]
        history = [
            {"value": stages[index][0], "timestamp": iso_ms_z(at), "sourceType": "CRM_UI"}
            for index, at in reversed(deal.stages)  # HubSpot lists the newest first
        ]
        current = deal.stages[-1]
        closed = deal.status != "open"
        deal_props = {
            "dealname": f"{lead.company} - {client.name}",
            "amount": str(deal.amount),
            "deal_currency_code": deal.currency,
            "pipeline": pipeline,
            "dealstage": stages[current[0]][0],
            "createdate": iso_ms_z(deal.created_at),
            "closedate": iso_ms_z(current[1]) if closed else None,
            "hs_is_closed": str(closed).lower(),
            "hs_is_closed_won": str(deal.status == "won").lower(),
            "closed_lost_reason": deal.lost_reason,
            "hs_lastmodifieddate": iso_ms_z(current[1] + timedelta(minutes=1)),
        }
        deal_body = _object(deal_id, deal_props, deal.created_at, current[1])
        deal_body["propertiesWithHistory"] = {"dealstage": history}
        deal_body["associations"] = {"contacts": {"results": [{"id": contact_id}]}}
        self._write(DEALS, deal.created_at, deal_body)

    def _csv(
        self, lead: Lead, client: Client, meeting: _Meeting, deal: _Deal | None, matched_by: str
    ) -> None:
        email, linkedin = _contact_points(lead, matched_by)
        meeting_id = f"{client.slug}-m-{lead.k}"
        deal_id = f"{client.slug}-d-{lead.k}" if deal is not None else ""
        self.csv_rows["meetings"].append(
            {
                "meeting_id": meeting_id,
                "client": client.slug,
                "contact_email": email or "",
                "contact_linkedin_url": linkedin or "",
                "contact_first_name": lead.first,
                "contact_last_name": lead.last,
                "company_domain": lead.company_domain or "",
                "booked_at": _csv_time(meeting.booked_at),
                "scheduled_for": _csv_time(meeting.scheduled_for),
                "outcome": meeting.outcome.lower().replace("_", " "),
                "meeting_type": "discovery",
                "confirmed": _yes_no(meeting.confirmed),
                "reminder_sent": _yes_no(meeting.reminded),
                "reschedule_count": "1" if meeting.moved_from else "",
                "originally_scheduled_for": _csv_time(meeting.moved_from),
                "deal_id": deal_id,
                "updated_at": _csv_time(max(meeting.scheduled_for, meeting.booked_at)),
                "lead_source": "outbound",
            }
        )
        if deal is None:
            return
        current = deal.stages[-1]
        closed_stage = {"won": "Won", "lost": "Lost"}.get(deal.status)
        self.csv_rows["deals"].append(
            {
                "deal_id": deal_id,
                "client": client.slug,
                "deal_name": f"{lead.company} - {client.name}",
                "stage": closed_stage or CSV_STAGES[current[0]],
                "status": deal.status,
                "amount": f"{deal.amount:,}" if deal.amount % 2 else str(deal.amount),
                "currency": deal.currency,
                "created_at": _csv_time(deal.created_at),
                "close_date": _csv_time(current[1]) if closed_stage else "",
                "lost_reason": deal.lost_reason or "",
                "contact_email": "",  # reached through its meeting
                "updated_at": _csv_time(current[1]),
            }
        )
        entries = [(CSV_STAGES[i], at) for i, at in deal.stages[:-1]]
        entries.append((closed_stage or CSV_STAGES[current[0]], current[1]))
        for stage, at in entries:
            self.csv_rows["stages"].append(
                {"deal_id": deal_id, "stage": stage, "changed_at": _csv_time(at), "changed_by": ""}
            )

    def _write(self, kind: str, at: datetime, body: dict[str, Any]) -> None:
        self.writers[kind].write(dumps(body), at)

    def close(self) -> CrmSummary:
        if self.bad:
            self._bad_input()
        used = sorted({p for p in self.pipelines.values() if p is not None})
        if used and any(w.total for w in self.writers.values()):
            pipelines = EventWriter(self.root, PIPELINES, "crm", 10**9)
            for pipeline in used:
                pipelines.write(dumps(_pipeline(pipeline)), datetime(2024, 1, 1, tzinfo=UTC))
            pipelines.close()
            self.summary.files.extend(pipelines.written)
        for writer in self.writers.values():
            writer.close()
            self.summary.files.extend(writer.written)
        if self.csv_rows["meetings"]:
            self._write_csv("meetings.csv", MEETING_COLUMNS, self.csv_rows["meetings"])
            self._write_csv("deals.csv", DEAL_COLUMNS, self.csv_rows["deals"])
            self._write_csv("stage_changes.csv", STAGE_COLUMNS, self.csv_rows["stages"])
        self.summary.files.sort()
        return self.summary

    def _bad_input(self) -> None:
        """One of each bad shape the loaders and marts must quarantine (and one they must
        read right: a stage history listed oldest first)."""
        hubspot = [p for p in self.pipelines.values() if p is not None]
        at = datetime.fromisoformat("2025-03-03T10:00:00+00:00")
        if hubspot and self.writers[DEALS].total:
            deal = _object(
                self._id("bad-deal"), {"pipeline": hubspot[0], "createdate": iso_ms_z(at)}, at
            )
            deal["properties"]["dealstage"] = "stage_that_was_deleted"
            self._write(DEALS, at, deal)
            meeting = _object(self._id("bad-meeting"), {"hs_meeting_start_time": iso_ms_z(at)}, at)
            meeting["associations"] = {"contacts": {"results": []}}
            self._write(MEETINGS, at, meeting)
            self.summary.bad.update(unknown_stage=1, meeting_without_contact=1)
        if self.csv_rows["meetings"]:
            self.csv_rows["meetings"].append(
                {
                    **self.csv_rows["meetings"][0],
                    "meeting_id": "bad-date",
                    "scheduled_for": "03/04/2025",
                }
            )
            if self.csv_rows["deals"]:
                self.csv_rows["deals"].append(
                    {**self.csv_rows["deals"][0], "deal_id": "bad-amount", "amount": "12k"}
                )
                # Oldest last: the marts order a history by its times, never by the file.
                self.csv_rows["stages"].reverse()
            legacy = [c for c in DEAL_COLUMNS if c != "created_at"]
            self._write_csv("deals-legacy-export.csv", tuple(legacy), [])
            self.summary.bad.update(bad_date=1, not_a_number=1, missing_column=1)

    def _write_csv(self, name: str, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
        folder = self.root / "crm"
        folder.mkdir(parents=True, exist_ok=True)
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
        temporary = folder / f".{name}.tmp"
        temporary.write_text(text.getvalue(), encoding="utf-8")
        os.replace(temporary, folder / name)
        self.summary.files.append(f"crm/{name}")


def _plan_meeting(rng: Any, replied_at: datetime) -> _Meeting:
    booked = replied_at + timedelta(hours=1 + rng.random() * 47)
    lag_days = 1 + int(rng.random() ** 1.5 * 20)
    start = (booked + timedelta(days=lag_days)).replace(minute=0, second=0, microsecond=0)
    moved_from = None
    if rng.random() < 0.1:
        moved_from, start = start, start + timedelta(days=2 + int(rng.random() * 5))
    roll = rng.random()
    no_show = min(0.08 + 0.025 * lag_days, 0.6)  # the longer the wait, the likelier a no-show
    if roll < 0.07:
        outcome = "CANCELED"
    elif roll < 0.10:
        outcome = "RESCHEDULED"
    elif roll < 0.15:
        outcome = "SCHEDULED"  # in the past, never updated
    elif rng.random() < no_show:
        outcome = "NO_SHOW"
    else:
        outcome = "COMPLETED"
    confirmed = rng.random() < 0.6 if rng.random() < 0.7 else None
    reminded = rng.random() < 0.7 if rng.random() < 0.7 else None
    return _Meeting(booked, start, moved_from, outcome, confirmed, reminded)


def _held(meeting: _Meeting) -> bool:
    return meeting.outcome == "COMPLETED"


def _plan_deal(rng: Any, meeting: _Meeting, open_stages: int) -> _Deal | None:
    if rng.random() >= 0.65:
        return None
    created = meeting.scheduled_for + timedelta(hours=2 + rng.random() * 46)
    stages = [(0, created)]
    at = created
    stall = rng.random() < 0.25
    for index in range(1, open_stages):
        if stall and rng.random() < 0.5:
            break
        at += timedelta(days=3 + rng.random() * 18)
        stages.append((index, at))
    status = "open"
    if not stall:
        status = "won" if rng.random() < 0.4 else "lost"
        at += timedelta(days=2 + rng.random() * 12)
        stages.append((open_stages if status == "won" else open_stages + 1, at))
    amount = int(5_000 + rng.random() ** 2 * 85_000) // 500 * 500
    currency = "USD" if rng.random() < 0.8 else ("EUR" if rng.random() < 0.75 else "GBP")
    reason = LOST_REASONS[int(rng.random() * len(LOST_REASONS))] if status == "lost" else None
    return _Deal(created, stages, status, amount, currency, reason)


def _contact_kind(rng: Any, lead: Lead) -> str:
    """How the CRM holds the person: by the lead's own email (most), by name and company
    domain only, or with a personal email and the LinkedIn URL."""
    roll = rng.random()
    if roll < 0.12 and lead.company_domain:
        return "name_and_domain"
    if roll < 0.2 and lead.linkedin_url:
        return "linkedin_url"
    return "email"


def _contact_points(lead: Lead, matched_by: str) -> tuple[str | None, str | None]:
    if matched_by == "name_and_domain":
        return None, None
    if matched_by == "linkedin_url":
        return f"{lead.first}.{lead.last}.{lead.k}@gmail.com".lower(), lead.linkedin_url
    return lead.email, None


def _object(
    object_id: str, properties: dict[str, Any], created: datetime, updated: datetime | None = None
) -> dict[str, Any]:
    return {
        "id": object_id,
        "properties": {**properties, "hs_object_id": object_id},
        "createdAt": iso_ms_z(created),
        "updatedAt": iso_ms_z(updated or created),
        "archived": False,
    }


def _pipeline(pipeline: str) -> dict[str, Any]:
    label, stages = HUBSPOT_PIPELINES[pipeline]
    return {
        "id": pipeline,
        "label": label,
        "displayOrder": 0,
        "archived": False,
        "stages": [
            {
                "id": stage,
                "label": stage_label,
                "displayOrder": order,
                "archived": False,
                "metadata": {
                    "isClosed": str(order >= len(stages) - 2).lower(),
                    "probability": probability,
                },
            }
            for order, (stage, stage_label, probability) in enumerate(stages)
        ],
    }


def _csv_time(at: datetime | None) -> str:
    return at.strftime("%Y-%m-%d %H:%M") if at is not None else ""


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def _count(counts: dict[str, int], key: str) -> None:
    counts[key] = counts.get(key, 0) + 1
