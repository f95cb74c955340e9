"""Salesforge webhook deliveries of one lead's sends (``shared/contracts/salesforge__webhook``).

Types: email_sent, email_opened, link_clicked, email_replied (``sequenceEmail`` holds the
reply, from the contact), email_bounced, contact_unsubscribed, label_changed and
positive_reply/negative_reply after a reply. ``eventTime`` has seconds precision and the
sequence's local offset (``+02:00``); the step is ``emailSentData.step``; no variant.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from cis.generate.campaigns import Campaign, mailbox_id
from cis.generate.event_files import hex_id
from cis.generate.timeline import Lead, Send, _zone

__all__ = ["webhooks"]

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
            at = s.reply_at + timedelta(minutes=7, seconds=len(lead.email or ""))
            labelled = body("label_changed", at, None)
            labelled["label"] = {
                "id": f"lbl_{hex_id(seed, 21, 'label', s.reply.intent)}",
                "name": LABELS[s.reply.intent],
            }
            yield at, labelled
            if s.reply.intent != "out_of_office":
                kind = "positive_reply" if s.reply.is_positive else "negative_reply"
                yield s.reply_at, body(kind, s.reply_at, s, reply)
        if s.unsubscribed_at is not None:
            yield s.unsubscribed_at, body("contact_unsubscribed", s.unsubscribed_at, s)
