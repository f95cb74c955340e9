"""The documented columns of the standalone-CRM CSV files (docs/crm.md, "Standalone mode").

Each file kind names its columns and what each must hold. A header is matched after folding
case and punctuation (``Meeting ID`` is ``meeting_id``); columns not named here are kept as
they are. A required column missing from the header refuses the whole file; a cell that is not
what its column holds (a time, a number, a yes/no, one of a fixed set) refuses its row alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


class Holds(Enum):
    TEXT = "text"
    TIME = "time"  # ISO 8601: 2026-11-03, 2026-11-03 14:30, 2026-11-03T14:30:00+01:00
    NUMBER = "number"
    WHOLE_NUMBER = "whole number"
    YES_NO = "yes/no"
    DEAL_STATUS = "open, won or lost"


@dataclass(frozen=True)
class Column:
    name: str
    holds: Holds = Holds.TEXT
    required: bool = False
    doc: str = ""


@dataclass(frozen=True)
class CsvFile:
    """One standalone-CRM file kind: ``crm/<stem>*.csv``."""

    stem: str
    columns: tuple[Column, ...]
    # At least one of these groups must be filled in on each row (who the record is about).
    contact_groups: tuple[tuple[str, ...], ...] = ()

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.required)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


_CONTACT = (
    Column("contact_email", doc="the lead's email (the surest match to the pool)"),
    Column("contact_linkedin_url", doc="the lead's LinkedIn profile URL"),
    Column("contact_first_name"),
    Column("contact_last_name"),
    Column("company_domain", doc="with the name, the last way to match a lead"),
)
_CONTACT_GROUPS = (
    ("contact_email",),
    ("contact_linkedin_url",),
    ("contact_last_name", "company_domain"),
)

MEETINGS = CsvFile(
    "meetings",
    (
        Column("meeting_id", required=True, doc="your id for the meeting, unique per meeting"),
        Column("scheduled_for", Holds.TIME, required=True, doc="when the meeting starts"),
        *_CONTACT,
        Column("client", doc="the agency client's slug (config/clients.yml), where the file says"),
        Column("booked_at", Holds.TIME, doc="when it was booked"),
        Column(
            "outcome",
            doc="scheduled, completed, rescheduled, no_show or canceled (variants are read)",
        ),
        Column("meeting_type", doc="discovery, demo, follow-up: your own words"),
        Column("title"),
        Column("notes"),
        Column("quality", Holds.NUMBER, doc="your rating of the meeting, where you keep one"),
        Column("confirmed", Holds.YES_NO, doc="the lead confirmed the time"),
        Column("reminder_sent", Holds.YES_NO),
        Column("reschedule_count", Holds.WHOLE_NUMBER),
        Column("originally_scheduled_for", Holds.TIME, doc="the first time agreed, if moved"),
        Column("deal_id", doc="the deal the meeting belongs to (deals.csv)"),
        Column("updated_at", Holds.TIME, doc="when this row last changed: the newest row wins"),
    ),
    _CONTACT_GROUPS,
)

DEALS = CsvFile(
    "deals",
    (
        Column("deal_id", required=True, doc="your id for the deal, unique per deal"),
        Column("stage", required=True, doc="the deal's current stage, in your own words"),
        Column("created_at", Holds.TIME, required=True, doc="when the deal was opened"),
        *_CONTACT,
        Column("client", doc="the agency client's slug (config/clients.yml)"),
        Column("deal_name"),
        Column("pipeline", doc="the pipeline's name, where you keep more than one"),
        Column("status", Holds.DEAL_STATUS, doc="open (the default), won or lost"),
        Column("amount", Holds.NUMBER, doc="the deal's value, a plain number: 12500.00"),
        Column("currency", doc="ISO 4217 code (EUR, USD); no single currency is assumed"),
        Column("probability", Holds.NUMBER, doc="0 to 1, or a percentage up to 100"),
        Column("close_date", Holds.TIME, doc="expected, or actual once won or lost"),
        Column("lost_reason", doc="why it was lost (price, competitor, budget, timing ...)"),
        Column("lost_reason_notes"),
        Column("updated_at", Holds.TIME, doc="when this row last changed: the newest row wins"),
    ),
    # A deal without a contact of its own reaches its lead through its meetings (deal_id).
)

STAGE_CHANGES = CsvFile(
    "stage_changes",
    (
        Column("deal_id", required=True),
        Column("stage", required=True, doc="the stage the deal entered"),
        Column("changed_at", Holds.TIME, required=True, doc="when it entered the stage"),
        Column("pipeline"),
        Column("changed_by", doc="who or what moved it"),
    ),
)

FILES: dict[str, CsvFile] = {f"crm/{f.stem}": f for f in (MEETINGS, DEALS, STAGE_CHANGES)}


def header_name(text: str) -> str:
    """A header cell as a column name: ``Meeting ID`` and ``meeting-id`` are ``meeting_id``."""
    return re.sub(r"[^0-9a-z]+", "_", text.strip().lower()).strip("_")
