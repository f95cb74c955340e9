"""One lead's email sequence as it plays out: sends, opens, clicks, a reply, a bounce.

Sends go out on the recipient's business days between 08:30 and 17:00 in the recipient's own
time zone (``zoneinfo``), each step its delay in days after the previous one. What happens next
follows the lead's traits: Apple Mail Privacy Protection opens every email seconds after
delivery, a security gateway clicks every link within seconds, a human opens minutes to days
later, and at most one reply (of an intent from :mod:`cis.generate.replies`) ends the
sequence. A bounce ends it at step 1; an unsubscribe link ends it where it is clicked.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cis.generate.apollo_people import rng_for
from cis.generate.campaigns import Campaign, Step, Variant, links, render, to_text
from cis.generate.event_files import uuid_text
from cis.generate.replies import Reply, pick_intent, reply_text

__all__ = ["BUSINESS_END", "BUSINESS_START", "Lead", "Send", "business_moment", "email_timeline"]

BUSINESS_START = time(8, 30)
BUSINESS_END = time(17, 0)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Lead:
    """One enrollment of an Apollo person (``k`` numbers enrollments across the run)."""

    k: int
    apollo_id: str
    email: str | None
    first: str
    last: str
    company: str
    company_domain: str | None
    title: str
    time_zone: str
    location: str
    linkedin_url: str | None
    phone: str
    wave: int = 0  # > 0: the person enrolled again in a later wave

    @property
    def name(self) -> str:
        return f"{self.first} {self.last}"

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.time_zone)


_ZONES: dict[str, ZoneInfo] = {}


def _zone(name: str) -> ZoneInfo:
    found = _ZONES.get(name)
    if found is None:
        found = _ZONES[name] = ZoneInfo(name)
    return found


@dataclass
class Send:
    """One sent email (one Smartlead statistics row)."""

    step: Step
    variant: Variant | None
    sent_at: datetime
    subject: str
    html: str
    text: str
    message_id: str
    stats_id: str
    links: list[str]
    opens: list[tuple[datetime, bool]] = field(default_factory=list)  # (time, machine)
    clicks: list[tuple[datetime, bool, str]] = field(default_factory=list)  # (time, bot, url)
    reply: Reply | None = None
    reply_at: datetime | None = None
    reply_message_id: str | None = None
    stamped_reply_at: datetime | None = None  # a later row's reply stamped on this row too
    bounced_at: datetime | None = None
    unsubscribed_at: datetime | None = None


def business_moment(
    rng: random.Random, zone: ZoneInfo, day: date, days: frozenset[int]
) -> datetime:
    """A UTC moment on the first allowed weekday from ``day``, within business hours in ``zone``."""
    while day.weekday() not in days:
        day += timedelta(days=1)
    lo = BUSINESS_START.hour * 3600 + BUSINESS_START.minute * 60
    hi = BUSINESS_END.hour * 3600 + BUSINESS_END.minute * 60
    s = lo + int(rng.random() * (hi - lo))
    local = datetime.combine(day, time(s // 3600, s % 3600 // 60, s % 60), zone)
    return local.replace(microsecond=int(rng.random() * 1000) * 1000).astimezone(UTC)


def sending_days(campaign: Campaign) -> frozenset[int]:
    days = {WEEKDAYS.index(d) for d in campaign.client.sending_days} & {0, 1, 2, 3, 4}
    return frozenset(days or {0, 1, 2, 3, 4})


def _variant(rng: random.Random, step: Step) -> Variant | None:
    live = step.live_variants()
    if not live:
        return None
    weights = [v.split or 1 for v in live]
    x = rng.random() * sum(weights)
    for v, w in zip(live, weights, strict=True):
        x -= w
        if x < 0:
            return v
    return live[-1]


def email_timeline(seed: int, lead: Lead, campaign: Campaign, first_day: date) -> list[Send]:
    """The sends of ``lead`` in ``campaign`` starting on ``first_day`` (local), with outcomes."""
    rng = rng_for(seed, "timeline", lead.k, campaign.id)
    zone = lead.zone
    days = sending_days(campaign)
    machine_opens = rng.random() < 0.12  # Apple Mail Privacy Protection
    scanner = rng.random() < 0.07  # a security gateway clicks every link
    bounces = rng.random() < 0.03
    open_rate = 0.15 + 0.4 * rng.random()
    reply_step = 1 + int(rng.random() * len(campaign.steps)) if rng.random() < 0.14 else 0
    unsub_step = 1 + int(rng.random() * len(campaign.steps)) if rng.random() < 0.015 else 0
    signature = f"{campaign.sender_name}<br>{campaign.client.name.split(' (')[0]}"
    sends: list[Send] = []
    day = first_day
    first_subject = ""
    for step in campaign.steps:
        if step.number > 1:
            day = sends[-1].sent_at.astimezone(zone).date() + timedelta(days=step.delay_days)
        sent_at = business_moment(rng, zone, day, days)
        variant = _variant(rng, step)
        subject_t = variant.subject if variant else step.subject
        body_t = variant.body if variant else step.body
        subject = render(subject_t, lead.first, lead.company, signature)
        if not subject:
            subject = f"Re: {first_subject}"
        elif step.number == 1:
            first_subject = subject
        html = render(body_t, lead.first, lead.company, signature)
        send = Send(
            step=step,
            variant=variant,
            sent_at=sent_at,
            subject=subject,
            html=html,
            text=to_text(html),
            message_id=f"<{uuid_text(seed, 'msg', lead.k, campaign.id, step.number)}@{campaign.domain}>",
            stats_id=uuid_text(seed, "stats", lead.k, campaign.id, step.number),
            links=links(html),
        )
        sends.append(send)
        if bounces and step.number == 1:
            send.bounced_at = sent_at + timedelta(seconds=2 + int(rng.random() * 30))
            break
        if campaign.tracking:
            _engagement(rng, send, machine_opens, scanner, open_rate)
        if step.number == reply_step:
            _reply(seed, rng, lead, campaign, sends)
            break
        if step.number == unsub_step:
            after = send.opens[-1][0] if send.opens else sent_at
            send.unsubscribed_at = after + timedelta(minutes=1 + int(rng.random() * 600))
            break
    return sends


def _engagement(
    rng: random.Random, send: Send, machine: bool, scanner: bool, open_rate: float
) -> None:
    t0 = send.sent_at
    if machine:
        send.opens.append((t0 + timedelta(seconds=1 + rng.random() * 9), True))
    if scanner:
        for url in send.links:
            send.clicks.append((t0 + timedelta(seconds=2 + rng.random() * 8), True, url))
    if rng.random() < open_rate:
        first = t0 + timedelta(minutes=3 + rng.random() * 60 * 24 * 2 * rng.random())
        send.opens.append((first, False))
        if rng.random() < 0.3:
            send.opens.append((first + timedelta(hours=1 + rng.random() * 30), False))
        if send.links and rng.random() < 0.15:
            send.clicks.append(
                (first + timedelta(seconds=20 + rng.random() * 600), False, send.links[0])
            )
    send.opens.sort()
    send.clicks.sort()


def _reply(
    seed: int, rng: random.Random, lead: Lead, campaign: Campaign, sends: list[Send]
) -> None:
    send = sends[-1]
    intent = pick_intent(rng)
    if intent == "out_of_office":
        at = send.sent_at + timedelta(seconds=20 + rng.random() * 60)
    else:
        last_open = max((t for t, machine in send.opens if not machine), default=send.sent_at)
        at = last_open + timedelta(minutes=2 + rng.random() * 60 * 24 * rng.random())
    send.reply = reply_text(rng, intent, campaign.sender[0], lead.first, lead.company)
    send.reply_at = at.replace(microsecond=0)
    send.reply_message_id = (
        f"<{uuid_text(seed, 'reply', lead.k, campaign.id).replace('-', '')}@mail.gmail.com>"
    )
    # One reply stamped on several rows (Smartlead does this for threads): count per lead.
    if len(sends) > 1 and (intent == "out_of_office" or rng.random() < 0.2):
        sends[-2].stamped_reply_at = send.reply_at
