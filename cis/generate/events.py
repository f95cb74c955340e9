"""Deterministic vendor events for the demo: Smartlead, Salesforge, HeyReach and Twilio.

``generate_events`` enrolls the Apollo people of the same run (same seed, leads and start as
:func:`cis.generate.generate_landing`, so the same emails, names, companies and time zones) in
the campaigns that ``config/clients.yml`` lists for each active client, plays each enrollment
out (:mod:`cis.generate.timeline`, :mod:`cis.generate.touches`) and writes every delivery in
the vendor's own shape into the landing layout of DESIGN.md. It streams: one enrollment is in
memory at a time, each landing kind has one open file, so memory does not grow with the number
of events. The messy cases: both Smartlead dialects, duplicate deliveries (the same body twice),
late deliveries (in a file named after the events it holds), Twilio callbacks out of order, one
reply stamped on several statistics rows, earlier versions of statistics rows (as pulled before
an open or a reply was recorded), and malformed lines in a separate file per kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from cis.clients import Client, load_clients
from cis.generate import salesforge_events, smartlead_events
from cis.generate.apollo_people import Universe, h64, rng_for
from cis.generate.campaigns import (
    Campaign,
    build_campaigns,
    salesforge_sequence,
    smartlead_campaign,
)
from cis.generate.crm import CrmOut, CrmSummary
from cis.generate.event_files import EventWriter, dumps, iso_us_z
from cis.generate.replies import smartlead_category
from cis.generate.smartlead_events import LeadOutcome
from cis.generate.timeline import Lead, Send, email_timeline
from cis.generate.touches import heyreach_events, twilio_events

__all__ = ["DEFAULT_CLIENTS", "EventsSummary", "generate_events"]

DEFAULT_CLIENTS = Path(__file__).resolve().parents[2] / "config" / "clients.yml"
SL_WEBHOOKS, SL_STATS, SL_CAMPAIGNS = (
    "smartlead/webhooks",
    "smartlead/statistics",
    "smartlead/campaigns",
)
SF_WEBHOOKS, SF_SEQUENCES = "salesforge/webhooks", "salesforge/sequences"
LINKEDIN, SMS = "linkedin/events", "sms/events"
DELIVERY_KINDS = (SL_WEBHOOKS, SF_WEBHOOKS, LINKEDIN, SMS)  # duplicated and delayed
EVENT_KINDS = (SL_WEBHOOKS, SL_STATS, SF_WEBHOOKS, LINKEDIN, SMS)
CAMPAIGN_DAYS = 28  # first sends spread over four weeks
WAVE_DAYS = 49  # a person enrolled again (more events than people asked) starts 7 weeks later
LATE_LAG = timedelta(hours=6)


@dataclass
class EventsSummary:
    """What ``generate_events`` wrote.

    Attributes
    ----------
    events : dict[str, int]
        Good lines per landing kind (duplicates and late deliveries included, campaign and
        sequence objects and malformed lines not).
    by_type : dict[str, int]
        Good lines per ``<landing kind>:<event name>`` (Smartlead: both dialects' names).
    campaigns : dict[str, int]
        Campaign objects per landing kind (``smartlead/campaigns``, ``salesforge/sequences``).
    duplicates : dict[str, int]
        Deliveries written a second time with the same body (so the same event key).
    late : dict[str, int]
        Deliveries written to a ``late`` file named after a time later than their events.
    out_of_order : int
        Twilio status callbacks written before the earlier transition's callback.
    versions : int
        Earlier versions of Smartlead statistics rows (the row before an open, a click or a
        reply was recorded), each written just before its row's final version with the same
        ``stats_id``; counted in ``events`` too.
    malformed : dict[str, int]
        Malformed lines per landing kind (bad JSON, a time in an unexpected format, a Twilio
        body without ``MessageSid``), all in files whose name has ``-malformed-``.
    enrollments : int
        Enrollments played out (a person enrolled again in a later wave counts again).
    people : int
        Distinct Apollo people enrolled.
    files : list[str]
        Written files relative to the output folder, sorted.
    crm : CrmSummary
        The meetings and deals that followed positive replies (:mod:`cis.generate.crm`).
    """

    events: dict[str, int] = field(default_factory=dict)
    by_type: dict[str, int] = field(default_factory=dict)
    campaigns: dict[str, int] = field(default_factory=dict)
    duplicates: dict[str, int] = field(default_factory=dict)
    late: dict[str, int] = field(default_factory=dict)
    out_of_order: int = 0
    versions: int = 0
    malformed: dict[str, int] = field(default_factory=dict)
    enrollments: int = 0
    people: int = 0
    files: list[str] = field(default_factory=list)
    crm: CrmSummary = field(default_factory=CrmSummary)

    @property
    def total_events(self) -> int:
        return sum(self.events.values())

    @property
    def malformed_total(self) -> int:
        return sum(self.malformed.values())


@dataclass(frozen=True)
class _Plan:
    """What one active client runs: email campaigns, LinkedIn campaigns, SMS numbers."""

    client: Client
    email: tuple[Campaign, ...]
    linkedin: tuple[tuple[int, str, bool], ...]  # (id, name, InMail)
    sms: tuple[str, ...]


def _plans(clients: list[Client], campaigns: list[Campaign]) -> list[_Plan]:
    plans = []
    linkedin_index = 0
    for client in clients:
        if client.status != "active":
            continue
        product = client.name.split(" (")[0]
        linkedin = []
        for raw in client.campaigns.heyreach:
            inmail = linkedin_index % 2 == 1
            linkedin_index += 1
            kind = "InMail" if inmail else "LinkedIn"
            linkedin.append((int(raw), f"{product} - {kind} outreach", inmail))
        email = tuple(c for c in campaigns if c.client.slug == client.slug)
        if email or linkedin:
            plans.append(_Plan(client, email, tuple(linkedin), tuple(client.campaigns.twilio)))
    return plans


class _Out:
    """The writers of every kind and the counts."""

    def __init__(self, root: Path, seed: int, per_file: int, dup: float, late: float) -> None:
        self.seed = seed
        self.dup = dup
        self.late_share = late
        self.summary = EventsSummary()
        self.normal = {k: EventWriter(root, k, "events", per_file) for k in EVENT_KINDS}
        self.late = {k: EventWriter(root, k, "late", per_file, LATE_LAG) for k in DELIVERY_KINDS}
        self.samples: dict[str, dict] = {}
        self.rng = rng_for(seed, "mess")
        self.truth: TextIO | None = None
        self.crm: CrmOut | None = None

    def record_truth(self, lead: Lead, c: Campaign, sends: list[Send]) -> None:
        """Every open, click and reply of the sends, and whether a machine made it (when asked).

        An email is named as the marts name it: Smartlead's ``stats_id`` (dialect A) or its
        campaign, lead id and step (dialect B, which carries no ``stats_id``); Salesforge's
        ``emailId``.
        """
        if self.truth is None:
            return
        sl_lead = smartlead_events.smartlead_lead_id(self.seed, lead, c)
        for x in sends:
            if c.vendor == "smartlead":
                keys = [x.stats_id, f"lead:{c.id}:{sl_lead}:{x.step.number}"]
            else:
                keys = [x.message_id.strip("<>")]
            marks = [("open", at, machine) for at, machine in x.opens]
            marks += [("click", at, bot) for at, bot, _url in x.clicks]
            if x.reply is not None and x.reply_at is not None:
                marks.append(("reply", x.reply_at, False))
            for event, at, machine in marks:
                line = {"provider": c.vendor, "message_keys": keys, "event": event}
                line.update(at=at.isoformat(), machine=machine)
                self.truth.write(dumps(line) + "\n")

    def emit(self, kind: str, at: datetime, name: str, body: dict, receipt: bool = False) -> None:
        s = self.summary
        if kind not in self.samples:
            self.samples[kind] = body
        late = kind in self.late and self.rng.random() < self.late_share
        writer = self.late[kind] if late else self.normal[kind]
        lag = timedelta(seconds=0.2 + self.rng.random() * 2)
        if late:
            lag += timedelta(hours=1 + self.rng.random() * 4)
            s.late[kind] = s.late.get(kind, 0) + 1
        writer.write(self._line(body, at + lag, receipt), at)
        count = 1
        if kind in self.late and self.rng.random() < self.dup:
            again = self.late[kind] if self.rng.random() < 0.3 else writer
            retry = lag + timedelta(seconds=30 + self.rng.random() * 600)
            again.write(self._line(body, at + retry, receipt), at)
            s.duplicates[kind] = s.duplicates.get(kind, 0) + 1
            count = 2
        s.events[kind] = s.events.get(kind, 0) + count
        key = f"{kind}:{name}"
        s.by_type[key] = s.by_type.get(key, 0) + count

    def emit_versions(self, kind: str, at: datetime, name: str, earlier: list[dict]) -> None:
        """Earlier versions of one record (oldest first), written before its final version is
        emitted, in the same file: pulls see a record several times as it changes."""
        if not earlier:
            return
        writer = self.normal[kind]
        writer.reserve(len(earlier) + 1)
        for body in earlier:
            writer.write(dumps(body), at)
        s = self.summary
        s.versions += len(earlier)
        s.events[kind] = s.events.get(kind, 0) + len(earlier)
        key = f"{kind}:{name}"
        s.by_type[key] = s.by_type.get(key, 0) + len(earlier)

    @staticmethod
    def _line(body: dict, received: datetime, receipt: bool) -> str:
        if not receipt:
            return dumps(body)
        return dumps(
            {**body, "_cis_receipt": {"received_at": iso_us_z(received), "vendor": "twilio"}}
        )

    def close(self) -> None:
        for writer in (*self.normal.values(), *self.late.values()):
            writer.close()
            self.summary.files.extend(writer.written)
        if self.truth is not None:
            self.truth.close()


def generate_events(
    out_dir: Path,
    leads: int,
    seed: int,
    *,
    start: datetime,
    clients: list[Client] | None = None,
    no_email: tuple[float, float] = (0.07, 0.15),
    events: int | None = None,
    lines_per_file: int = 50_000,
    duplicate_share: float = 0.03,
    late_share: float = 0.01,
    malformed: bool = True,
    truth: Path | None = None,
) -> EventsSummary:
    """Write the vendor events of a demo whose Apollo people are ``Universe(seed, leads, start)``.

    Parameters
    ----------
    out_dir : Path
        The landing folder (files go to the kind folders of DESIGN.md's layout).
    leads, seed, start
        As given to :func:`cis.generate.generate_landing` (``start`` in UTC).
    clients : list[Client], optional
        The agency's clients (default: ``config/clients.yml``); each active one's campaigns.
    no_email : tuple[float, float]
        The ``kind_share`` interval of people written without an email (LinkedIn only), as
        ``generate_landing`` derives it from its ``Shares``.
    events : int, optional
        Stop once at least this many event lines are written, enrolling people again in later
        waves when there are more events than one pass gives (default: every person once).
    lines_per_file : int
        Most lines per file.
    duplicate_share, late_share : float
        Shares of deliveries written twice, and written late.
    malformed : bool
        Also write the malformed lines (a separate file per kind).
    truth : Path, optional
        Also write, to this JSON Lines file (outside the landing folder), every email open and
        click the generator planted with whether a machine made it: what the machine-activity
        flags of the engagement marts are measured against (docs/engagement.md).
    """
    start = start.astimezone(UTC)
    clients = clients if clients is not None else load_clients(DEFAULT_CLIENTS)
    campaigns = build_campaigns(clients, seed, start)
    plans = _plans(clients, campaigns)
    out = _Out(Path(out_dir), seed, lines_per_file, duplicate_share, late_share)
    if truth is not None:
        out.truth = Path(truth).open("w", encoding="utf-8")  # noqa: SIM115 (out.close() closes it)
    out.crm = CrmOut(Path(out_dir), seed, clients, bad=malformed)
    s = out.summary
    _write_campaigns(Path(out_dir), seed, campaigns, s)
    if not plans:
        return s
    u = _PeopleOnly(seed, leads, start)
    first_day = (start + timedelta(days=14)).date()
    k = 0
    while (k < leads) if events is None else (s.total_events < events):
        i = u.index_at(k % leads)
        wave = k // leads
        x = u.kind_share(i)
        person = u.person(i, email=not no_email[0] <= x < no_email[1])
        lead = _lead(u, k, person, wave, seed)
        plan = plans[h64(seed, "plan", k) % len(plans)]
        day = first_day + timedelta(days=wave * WAVE_DAYS + h64(seed, "day", k) % CAMPAIGN_DAYS)
        _enroll(out, seed, lead, plan, day)
        k += 1
    s.enrollments = k
    s.people = min(k, leads)
    if malformed:
        _write_malformed(Path(out_dir), out)
    out.close()
    s.crm = out.crm.close()
    s.files.extend(s.crm.files)
    s.files.sort()
    return s


class _PeopleOnly(Universe):
    """The same people as :class:`Universe` (same random streams), with only the two
    ``organization{}`` fields the events use: building the full object for every enrollment
    would double the cost of a person."""

    def organization(self, j: int) -> dict[str, Any]:
        profile = self.profile(j)
        return {"name": profile.name, "primary_domain": profile.domain}


def _lead(u: Universe, k: int, p: dict, wave: int, seed: int) -> Lead:
    phones = p.get("phone_numbers") or []
    phone = (
        phones[0]["sanitized_number"]
        if phones
        else f"+1{h64(seed, 'phone', k) % 800 + 200}555{h64(seed, 'ph4', k) % 10000:04d}"
    )
    org = p["organization"]
    return Lead(
        k=k,
        apollo_id=p["id"],
        email=p["email"],
        first=p["first_name"],
        last=p["last_name"],
        company=org["name"],
        company_domain=org.get("primary_domain"),
        title=p["title"],
        time_zone=p["time_zone"],
        location=p["formatted_address"],
        linkedin_url=p["linkedin_url"],
        phone=phone,
        wave=wave,
    )


def _enroll(out: _Out, seed: int, lead: Lead, plan: _Plan, day) -> None:
    rng = rng_for(seed, "enroll", lead.k)
    if lead.email and plan.email:
        c = plan.email[int(rng.random() * len(plan.email))]
        sends = email_timeline(seed, lead, c, day)
        out.record_truth(lead, c, sends)
        positive = next((x for x in sends if x.reply is not None and x.reply.is_positive), None)
        if out.crm is not None and positive is not None and positive.reply_at is not None:
            out.crm.positive_reply(lead, plan.client, positive.reply_at)
        if c.vendor == "smartlead":
            dialect_b = rng.random() < 0.25
            for at, body in smartlead_events.webhooks(seed, lead, c, sends, dialect_b):
                out.emit(SL_WEBHOOKS, at, body.get("event_type") or body["event"], body)
            outcome = _outcome(sends)
            versions = rng_for(seed, "stats-versions", lead.k)
            # A statistics row has no campaign of its own: the pull that fetched it records
            # which campaign it asked for, as the API source does (docs/events.md).
            pulled = {"_cis_receipt": {"source": "api", "campaign_id": str(c.id)}}
            for x in sends:
                earlier = smartlead_events.statistics_versions(versions, lead, c, x, outcome)
                earlier = [{**version, **pulled} for version in earlier]
                out.emit_versions(SL_STATS, x.sent_at, "statistics_row", earlier)
                row = smartlead_events.statistics_row(
                    lead, c, x, outcome.category, outcome.unsubscribed
                )
                out.emit(SL_STATS, x.sent_at, "statistics_row", {**row, **pulled})
        else:
            for at, body in salesforge_events.webhooks(seed, lead, c, sends):
                out.emit(SF_WEBHOOKS, at, body["webhookInfo"]["type"], body)
    if plan.linkedin and (not lead.email or rng.random() < 0.35):
        cid, name, inmail = plan.linkedin[int(rng.random() * len(plan.linkedin))]
        for at, kind, body in heyreach_events(seed, lead, cid, name, inmail, day):
            out.emit(LINKEDIN, at, kind, body)
    if plan.sms and lead.email and rng.random() < 0.25:
        number = plan.sms[int(rng.random() * len(plan.sms))]
        for at, name, body, early in twilio_events(seed, lead, number, plan.client.slug, day):
            out.summary.out_of_order += early
            out.emit(SMS, at, name, body, receipt=True)


def _outcome(sends: list[Send]) -> LeadOutcome:
    """The lead-level part of the statistics rows: the category of the reply (known when the
    reply came) and the unsubscribe."""
    replied = next((x for x in sends if x.reply is not None), None)
    unsubscribed = next((x.unsubscribed_at for x in sends if x.unsubscribed_at), None)
    if replied is None or replied.reply is None:
        return LeadOutcome(unsubscribed_at=unsubscribed)
    category = smartlead_category(replied.reply.intent)[1]
    return LeadOutcome(category, replied.reply_at, unsubscribed)


def _write_campaigns(root: Path, seed: int, campaigns: list[Campaign], s: EventsSummary) -> None:
    writers = {
        SL_CAMPAIGNS: EventWriter(root, SL_CAMPAIGNS, "campaigns", 10**9),
        SF_SEQUENCES: EventWriter(root, SF_SEQUENCES, "sequences", 10**9),
    }
    for c in campaigns:
        kind = SL_CAMPAIGNS if c.vendor == "smartlead" else SF_SEQUENCES
        body = (
            smartlead_campaign(c, seed) if c.vendor == "smartlead" else salesforge_sequence(c, seed)
        )
        writers[kind].write(dumps(body), c.created_at)
        s.campaigns[kind] = s.campaigns.get(kind, 0) + 1
    for writer in writers.values():
        writer.close()
        s.files.extend(writer.written)


# Where each kind keeps its event time, and a time in a format the loader must refuse.
_TIME_PATHS = {
    SL_WEBHOOKS: (("event_timestamp",), ("timestamp",)),
    SL_STATS: (("sent_time",),),
    SF_WEBHOOKS: (("webhookInfo", "eventTime"),),
    LINKEDIN: (("timestamp",),),
}
_BAD_TIMES = ("09/02/2025 14:03", "Tue, 02 Sep 2025 14:03:12 +0000")


def _write_malformed(root: Path, out: _Out) -> None:
    """Per kind: a body with a time in an unexpected format first (so the file is JSON Lines),
    then a line cut short (not JSON), then another unexpected time format."""
    for kind, sample in sorted(out.samples.items()):
        writer = EventWriter(root, kind, "malformed", 10**9)
        at = datetime(2025, 1, 1, tzinfo=UTC)
        lines = []
        for bad in _BAD_TIMES:
            body = _with_bad_time(kind, sample, bad)
            lines.append(dumps(body))
        text = dumps(sample)
        lines.insert(1, text[: len(text) // 2])
        for line in lines:
            writer.write(line, at)
        writer.close()
        out.summary.malformed[kind] = len(lines)
        out.summary.files.extend(writer.written)


def _with_bad_time(kind: str, sample: dict, bad: str) -> dict:
    body = {k: (dict(v) if isinstance(v, dict) else v) for k, v in sample.items()}
    if kind == SMS:  # no time in a Twilio body: a body without its MessageSid instead
        for key in ("MessageSid", "SmsMessageSid", "SmsSid"):
            body.pop(key, None)
        body["_cis_receipt"] = {"received_at": "2025-01-01T00:00:00.000000Z", "vendor": "twilio"}
        return body
    for path in _TIME_PATHS[kind]:
        holder = body
        for key in path[:-1]:
            holder = holder.get(key, {})
        if path[-1] in holder:
            holder[path[-1]] = bad
            break
    return body
