"""Salesforge webhook deliveries of one lead's sends (``shared/contracts/salesforge__webhook``).

Types: email_sent, email_opened, link_clicked, email_replied (``sequenceEmail`` holds the
reply, from the contact), email_bounced, contact_unsubscribed, label_changed,
positive_reply/negative_reply (seconds after an email_replied whose reply is positive or
negative; none for an auto-reply), dnc_added (the contact put on the do-not-contact list: after
an unsubscribe link, or after a reply asking to be removed once it is labelled Do Not Contact)
and linkedin_replied (a contact of a multichannel sequence answering its LinkedIn connection
note, ``linkedinMessage{content, sentAt}``). ``eventTime`` has seconds precision and the
sequence's local offset (``+02:00``); the step is ``emailSentData.step``; no variant. Events of
the contact rather than of one email (label_changed, dnc_added, linkedin_replied) carry no
``sequenceEmail``/``emailSentData``, as the contract's label_changed line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from cis.generate.apollo_people import rng_for
from cis.generate.campaigns import Campaign, mailbox_id
from cis.generate.event_files import hex_id, iso_s_z, num_id
from cis.generate.replies import DAYS, TEXTS
from cis.generate.timeline import Lead, Send, _zone

__all__ = ["LinkedInReply", "linkedin_reply", "webhooks"]

WEBHOOKS = "salesforge/webhooks"
LABELS = {
    "interested": "Interested",
    "meeting_request": "Meeting Booked",
    "not_now": "Not Now",
    "not_interested": "Not Interested",
    "out_of_office": "Out Of Office",
    "wrong_person": "Wrong Person",
    "unsubscribe": "Do Not Contact",
}
# A contact of a multichannel sequence answering its LinkedIn connection note instead of the
# emails (then the sequence stops), and one who replied positively by email answering there too.
LINKEDIN_ONLY_SHARE = 0.1
LINKEDIN_TOO_SHARE = 0.4
LINKEDIN_INTENTS = ("interested", "meeting_request", "not_now", "not_interested", "wrong_person")
LINKEDIN_TOO = (
    "Thanks {first} - replied to your email, see you {day}.",
    "Saw your note here too, {first}. Answered by email - talk {day}.",
)


@dataclass(frozen=True)
class LinkedInReply:
    """A contact's answer on LinkedIn within a multichannel sequence."""

    at: datetime
    text: str
    intent: str
    stops: bool  # instead of an email reply: no email goes out after it


def linkedin_reply(seed: int, lead: Lead, c: Campaign, sends: list[Send]) -> LinkedInReply | None:
    """The contact's LinkedIn reply in a multichannel sequence (which opens with a connection
    request and a note), or None: a share of the contacts who never answered the emails answer
    the note (between the first send and the last one, so the sequence stops there), and a share
    of those who replied positively by email also answer it after their email reply."""
    if c.shape != "multichannel" or not lead.linkedin_url or not sends:
        return None
    rng = rng_for(seed, "sf-linkedin", lead.k, c.id)
    first = sends[0].sent_at
    replied = next((s for s in sends if s.reply is not None and s.reply_at is not None), None)
    if replied is not None:
        assert replied.reply is not None and replied.reply_at is not None
        if not replied.reply.is_positive or rng.random() >= LINKEDIN_TOO_SHARE:
            return None
        template = LINKEDIN_TOO[int(rng.random() * len(LINKEDIN_TOO))]
        day = DAYS[int(rng.random() * len(DAYS))]
        at = replied.reply_at + timedelta(hours=1 + rng.random() * 40)
        text = template.format(first=c.sender[0], day=day)
        return LinkedInReply(at.replace(microsecond=0), text, replied.reply.intent, False)
    if any(s.bounced_at or s.unsubscribed_at for s in sends):
        return None
    if rng.random() >= LINKEDIN_ONLY_SHARE:
        return None
    last = sends[-1].sent_at if len(sends) > 1 else first + timedelta(days=3)
    at = first + timedelta(hours=2) + (last - first - timedelta(hours=2)) * rng.random()
    intent = LINKEDIN_INTENTS[int(rng.random() * len(LINKEDIN_INTENTS))]
    template = TEXTS[intent][int(rng.random() * len(TEXTS[intent]))]
    day = DAYS[int(rng.random() * len(DAYS))]
    text = template.format(first=c.sender[0], me=lead.first, company=lead.company, day=day)
    return LinkedInReply(at.replace(microsecond=0), text, intent, True)


def webhooks(
    seed: int, lead: Lead, c: Campaign, sends: list[Send]
) -> Iterator[tuple[datetime, dict]]:
    """Every webhook delivery of the lead's sends, as (event time, body)."""
    zone = _zone(c.tz)
    workspace = {
        "id": f"wks_{hex_id(seed, 20, 'workspace', c.client.slug)}",
        "name": f"{c.client.name.split(' (')[0]} Outbound",
        "slug": f"{c.client.slug}-outbound",
    }
    contact = {
        "id": f"lead_{hex_id(seed, 21, 'sf-contact', lead.k, c.id)}",
        "firstName": lead.first,
        "lastName": lead.last,
        "email": lead.email,
        "company": lead.company,
    }
    sequence = {"id": c.id, "name": c.name}
    mailbox = {
        "id": mailbox_id(c, seed),
        "firstName": c.sender[0],
        "lastName": c.sender[1],
        "email": c.sender_email,
        "customDomain": f"track.{c.domain}",
    }

    def info(kind: str, at: datetime) -> dict:
        return {
            "id": f"wh_{hex_id(seed, 21, 'sf-webhook', c.client.slug, kind)}",
            "eventTime": at.astimezone(zone).isoformat(timespec="seconds"),
            "type": kind,
        }

    def body(kind: str, at: datetime, s: Send | None, email: dict | None = None) -> dict:
        out: dict = {"webhookInfo": info(kind, at)}
        if s is not None:
            out["sequenceEmail"] = email or {
                "emailId": s.message_id.strip("<>"),
                "fromEmail": c.sender_email,
                "fromName": c.sender_name,
                "toEmail": lead.email,
                "toName": lead.name,
                "subject": s.subject,
                "content": {"text": s.text, "html": s.html},
            }
        out.update(
            {"workspace": workspace, "contact": contact, "sequence": sequence, "mailbox": mailbox}
        )
        if s is not None:
            out["emailSentData"] = {"step": s.step.number, "ai_generated": False}
        return out

    def contact_event(kind: str, at: datetime) -> dict:
        """An event of the contact, not of one email (no ``sequenceEmail``)."""
        return body(kind, at, None)

    def seconds(name: str, low: int, span: int) -> timedelta:
        return timedelta(seconds=num_id(seed, low, span, name, lead.k, c.id))

    li = linkedin_reply(seed, lead, c, sends)
    if li is not None and li.stops:  # the sequence stops at a reply on any channel
        sends = [s for s in sends if s.sent_at < li.at]
    for s in sends:
        yield s.sent_at, body("email_sent", s.sent_at, s)
        if s.bounced_at is not None:
            yield s.bounced_at, body("email_bounced", s.bounced_at, s)
        for at, _machine in s.opens:
            yield at, body("email_opened", at, s)
        for at, _bot, _url in s.clicks:
            yield at, body("link_clicked", at, s)
        if s.reply is not None and s.reply_at is not None:
            reply = {
                "emailId": s.reply_message_id.strip("<>") if s.reply_message_id else None,
                "fromEmail": lead.email,
                "fromName": lead.name,
                "toEmail": c.sender_email,
                "toName": c.sender_name,
                "subject": f"Re: {s.subject}",
                "content": {"text": s.reply.text, "html": s.reply.html},
            }
            yield s.reply_at, body("email_replied", s.reply_at, s, reply)
            if s.reply.intent != "out_of_office":  # the reply's sentiment, once it is read
                kind = "positive_reply" if s.reply.is_positive else "negative_reply"
                at = s.reply_at + seconds("sf-sentiment", 3, 50)
                yield at, body(kind, at, s, reply)
            at = s.reply_at + timedelta(minutes=7, seconds=len(lead.email or ""))
            labelled = contact_event("label_changed", at)
            labelled["label"] = {
                "id": f"lbl_{hex_id(seed, 21, 'label', s.reply.intent)}",
                "name": LABELS[s.reply.intent],
            }
            yield at, labelled
            if s.reply.intent == "unsubscribe":  # labelled Do Not Contact: on the DNC list
                at += seconds("sf-dnc", 2, 40)
                yield at, contact_event("dnc_added", at)
        if s.unsubscribed_at is not None:
            yield s.unsubscribed_at, body("contact_unsubscribed", s.unsubscribed_at, s)
            at = s.unsubscribed_at + seconds("sf-dnc", 1, 5)
            yield at, contact_event("dnc_added", at)
    if li is not None:
        replied = contact_event("linkedin_replied", li.at)
        replied["linkedinMessage"] = {"content": li.text, "sentAt": iso_s_z(li.at)}
        yield li.at, replied
