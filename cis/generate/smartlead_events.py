"""Smartlead deliveries of one lead's sends: webhooks in both dialects and statistics rows.

Dialect A (``event_type`` EMAIL_SENT, EMAIL_OPEN, EMAIL_LINK_CLICK, EMAIL_REPLY, EMAIL_BOUNCE,
LEAD_UNSUBSCRIBED, LEAD_CATEGORY_UPDATED) carries the full envelope with its time formats;
dialect B (``event`` EMAIL_SENT, EMAIL_OPENED, EMAIL_CLICKED, EMAIL_REPLIED, EMAIL_BOUNCED,
EMAIL_UNSUBSCRIBED, ``timestamp`` with ``Z`` and no fraction, nested ``lead{}``) the short one.
Field order and formats follow ``shared/contracts/smartlead__webhook.jsonl`` and
``smartlead__statistics.jsonl``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from cis.generate.campaigns import Campaign, smartlead_client_id
from cis.generate.event_files import (
    iso_ms_offset,
    iso_ms_z,
    iso_s_offset,
    iso_s_z,
    iso_us_offset,
    num_id,
    uuid_text,
)
from cis.generate.replies import smartlead_category
from cis.generate.timeline import Lead, Send

__all__ = ["statistics_row", "webhooks"]

WEBHOOKS = "smartlead/webhooks"
STATISTICS = "smartlead/statistics"


def _stamp_s(t: datetime | None) -> str | None:
    """Statistics times other than sending: second precision, written ``.000Z``."""
    return None if t is None else iso_ms_z(t.replace(microsecond=0))


def statistics_row(lead: Lead, c: Campaign, s: Send, category: str | None, unsub: bool) -> dict:
    """One ``data[]`` row of the campaign statistics (final state)."""
    first_open = s.opens[0][0] if s.opens else None
    first_click = s.clicks[0][0] if s.clicks else None
    reply_at = s.reply_at or s.stamped_reply_at
    return {
        "lead_name": lead.name,
        "lead_email": lead.email,
        "lead_category": category,
        "sequence_number": s.step.number,
        "stats_id": s.stats_id,
        "email_campaign_seq_id": s.step.id,
        "seq_variant_id": s.variant.id if s.variant else None,
        "email_subject": s.subject,
        "email_message": s.html,
        "sent_time": iso_ms_z(s.sent_at),
        "open_time": _stamp_s(first_open),
        "click_time": _stamp_s(first_click),
        "reply_time": _stamp_s(reply_at),
        "open_count": len(s.opens),
        "click_count": len(s.clicks),
        "is_unsubscribed": unsub,
        "is_bounced": s.bounced_at is not None,
        "ignore_reply": False,
    }


class _Ctx:
    def __init__(self, seed: int, lead: Lead, c: Campaign) -> None:
        self.seed = seed
        self.lead = lead
        self.c = c
        self.lead_id = num_id(seed, 2_200_000_000, 90_000_000, "sl-lead", lead.k, c.id)
        self.map_id = num_id(seed, 1_900_000_000, 90_000_000, "sl-map", lead.k, c.id)
        self.client_id = smartlead_client_id(c.client.slug, seed)
        self.app_url = (
            f"https://app.smartlead.ai/app/master-inbox?action=INBOX&leadMap={self.map_id}"
        )
        self.secret = uuid_text(seed, "smartlead-secret", c.client.slug)
        self.webhook_id = num_id(seed, 48_000, 1_000, "sl-webhook", c.client.slug)
        self.webhook_created = iso_ms_z(c.created_at + timedelta(minutes=18))

    def head(self) -> dict:
        return {
            "webhook_id": self.webhook_id,
            "webhook_name": "CIS ingest - all events",
            "webhook_url": "https://hooks.agency-cis.example/smartlead/inbound?token="
            + self.secret[:10],
        }

    def tail(self, description: str) -> dict:
        return {
            "client_id": self.client_id,
            "app_url": self.app_url,
            "ui_master_inbox_link": self.app_url,
            "secret_key": self.secret,
            "description": description,
            "metadata": {"webhook_created_at": self.webhook_created},
        }

    def envelope(self, s: Send, event: str, time_key: str, stamp: str) -> dict:
        lead = self.lead
        body = self.head()
        body.update(
            {
                "sl_email_lead_id": str(self.lead_id),
                "sl_email_lead_map_id": self.map_id,
                "stats_id": s.stats_id,
                "event_type": event,
                time_key: stamp,
                "event_timestamp": stamp,
                "from_email": self.c.sender_email,
                "to_email": lead.email,
                "to_name": lead.name,
                "subject": s.subject,
                "campaign_id": self.c.id,
                "campaign_name": self.c.name,
                "campaign_status": "ACTIVE",
                "sequence_number": s.step.number,
            }
        )
        return body

    def sent_message(self, s: Send) -> dict:
        return {
            "message_id": s.message_id,
            "html": s.html,
            "text": s.text,
            "time": iso_ms_offset(s.sent_at),
        }


def webhooks(
    seed: int, lead: Lead, c: Campaign, sends: list[Send], dialect_b: bool
) -> Iterator[tuple[datetime, dict]]:
    """Every webhook delivery of the lead's sends, as (event time, body)."""
    ctx = _Ctx(seed, lead, c)
    for s in sends:
        yield from (_b if dialect_b else _a)(ctx, s)
    last = sends[-1]
    if last.reply is not None and last.reply_at is not None and not dialect_b:
        yield _category(ctx, last)


def _a(ctx: _Ctx, s: Send) -> Iterator[tuple[datetime, dict]]:
    lead, c = ctx.lead, ctx.c
    n = s.step.number
    where = f"for campaign - {c.name}"
    body = ctx.envelope(s, "EMAIL_SENT", "time_sent", iso_ms_offset(s.sent_at))
    body.update(
        {
            "custom_subject": s.subject,
            "custom_email_message": s.html,
            "sent_message_body": s.html,
            "sent_message": ctx.sent_message(s),
            "message_id": s.message_id,
        }
    )
    body.update(ctx.tail(f"Email {n} sent to {lead.email} {where}"))
    yield s.sent_at, body
    if s.bounced_at is not None:
        stamp = iso_s_offset(s.bounced_at.replace(microsecond=0))
        body = ctx.envelope(s, "EMAIL_BOUNCE", "created_at", stamp)
        del body["event_timestamp"]
        body["time_sent"] = iso_ms_offset(s.sent_at)
        body["event_timestamp"] = stamp
        bounce_id = f"<CAMbn0unce{uuid_text(ctx.seed, 'bounce', lead.k)[:8]}@mail.gmail.com>"
        text = (
            f"Address not found\n\nYour message wasn't delivered to {lead.email} because the "
            "address couldn't be found, or is unable to receive mail.\n\n550 5.1.1 The email "
            "account that you tried to reach does not exist."
        )
        html = "<div>" + text.replace("\n", "<br>") + "</div>"
        body.update(
            {
                "custom_subject": s.subject,
                "custom_email_message": s.html,
                "sent_message_body": s.html,
                "sent_message": ctx.sent_message(s),
                "message_id": s.message_id,
                "is_bounced": True,
                "is_sender_originated_bounce": False,
                "bounce_reply_message_id": bounce_id,
                "bounce_reply_email": html,
                "bounce_reply_email_preview": "Address not found Your message wasn't delivered "
                f"to {lead.email}",
                "bounce_message": {
                    "message_id": bounce_id,
                    "html": html,
                    "text": text,
                    "time": stamp,
                },
            }
        )
        body.update(ctx.tail(f"Email sent to {lead.email} got bounced {where}"))
        yield s.bounced_at, body
    for at, _machine in s.opens:
        body = ctx.envelope(s, "EMAIL_OPEN", "time_opened", iso_us_offset(at))
        body.update({"sent_message_body": s.html, "sent_message": ctx.sent_message(s)})
        body.update(ctx.tail(f"{lead.email} opened Email {n} {where}"))
        yield at, body
    for at, _bot, url in s.clicks:
        body = ctx.envelope(s, "EMAIL_LINK_CLICK", "time_clicked", iso_us_offset(at))
        body.update(
            {
                "link_clicked": [url],
                "link_details": [url],
                "sent_message_body": s.html,
                "sent_message": ctx.sent_message(s),
            }
        )
        body.update(ctx.tail(f"{lead.email} clicked a link in Email {n} {where}"))
        yield at, body
    if s.reply is not None and s.reply_at is not None:
        stamp = iso_s_offset(s.reply_at)
        body = ctx.envelope(s, "EMAIL_REPLY", "time_replied", stamp)
        reply = s.reply
        body.update(
            {
                "sl_lead_email": lead.email,
                "cc_emails": [],
                "stats_thread_id": uuid_text(ctx.seed, "thread", lead.k, c.id),
                "sent_message_body": s.html,
                "sent_message": ctx.sent_message(s),
                "message_id": s.reply_message_id,
                "reply_body": reply.html,
                "reply_message": {
                    "message_id": s.reply_message_id,
                    "html": reply.html,
                    "text": reply.text,
                    "time": stamp,
                },
                "preview_text": reply.text[:90],
                "leadCorrespondence": {
                    "targetLeadEmail": lead.email,
                    "replyReceivedFrom": lead.email,
                    "repliedCompanyDomain": "SameCompany",
                },
            }
        )
        body.update(ctx.tail(f"{lead.email} replied to Email {n} {where}"))
        yield s.reply_at, body
    if s.unsubscribed_at is not None:
        at = s.unsubscribed_at
        body = ctx.head()
        body.update(
            {
                "event_type": "LEAD_UNSUBSCRIBED",
                "event_timestamp": iso_ms_z(at),
                "lead_email": lead.email,
                "to_email": lead.email,
                "from_email": c.sender_email,
                "lead_name": lead.name,
                "to_name": lead.name,
                "subject": s.subject,
                "campaign_id": c.id,
                "campaign_name": c.name,
                "campaign_status": "ACTIVE",
                "sequence_number": n,
                "unsubscribed_client_id_map": {str(ctx.client_id): True},
                "sent_message": {**ctx.sent_message(s), "time": iso_ms_z(s.sent_at)},
            }
        )
        body.update(ctx.tail(f"{lead.email} unsubscribed {where}"))
        yield at, body


def _category(ctx: _Ctx, s: Send) -> tuple[datetime, dict]:
    assert s.reply is not None and s.reply_at is not None
    lead, c = ctx.lead, ctx.c
    at = s.reply_at + timedelta(
        minutes=4, seconds=ctx.lead_id % 900, milliseconds=ctx.map_id % 1000
    )
    new_id, new_name = smartlead_category(s.reply.intent)
    history = [
        {
            "stats_id": s.stats_id,
            "type": "SENT",
            "message_id": s.message_id,
            "time": iso_ms_z(s.sent_at),
            "email_body": s.html,
            "subject": s.subject,
        },
        {
            "stats_id": s.stats_id,
            "type": "REPLY",
            "message_id": s.reply_message_id,
            "time": iso_ms_z(s.reply_at),
            "email_body": s.reply.html,
            "subject": f"Re: {s.subject}",
        },
    ]
    last = {k: v for k, v in history[1].items() if k != "subject"}
    body = ctx.head()
    body.update(
        {
            "lead_id": str(ctx.lead_id),
            "event_type": "LEAD_CATEGORY_UPDATED",
            "created_at": iso_ms_z(at),
            "event_timestamp": iso_ms_z(at),
            "from": c.sender_email,
            "from_email": c.sender_email,
            "to": lead.email,
            "lead_email": lead.email,
            "to_email": lead.email,
            "lead_name": lead.name,
            "to_name": lead.name,
            "campaign_id": c.id,
            "campaign_name": c.name,
            "campaign_status": "ACTIVE",
            "category": new_name,
            "lead_category_id": new_id,
            "lead_category": {
                "old_id": None,
                "old_name": None,
                "new_id": new_id,
                "new_name": new_name,
            },
            "lead_data": {
                "email": lead.email,
                "first_name": lead.first,
                "last_name": lead.last,
                "linkedin_profile": lead.linkedin_url,
                "custom_fields": {"apollo_id": lead.apollo_id, "title": lead.title},
                "phone_number": lead.phone,
                "company_name": lead.company,
                "website": lead.company_domain,
                "location": lead.location,
                "company_url": lead.company_domain,
            },
            "history": history,
            "lastReply": last,
            "last_reply": last,
        }
    )
    tail = ctx.tail(f"Lead category of {lead.email} changed to {new_name} for campaign - {c.name}")
    body.update(
        {
            "client_id": tail["client_id"],
            "secret_key": tail["secret_key"],
            "app_url": tail["app_url"],
            "ui_master_inbox_link": tail["app_url"],
            "description": tail["description"],
            "metadata": tail["metadata"],
        }
    )
    return at, body


def _b(ctx: _Ctx, s: Send) -> Iterator[tuple[datetime, dict]]:
    lead, c = ctx.lead, ctx.c
    full = {
        "email": lead.email,
        "first_name": lead.first,
        "last_name": lead.last,
        "company_name": lead.company,
    }
    n = s.step.number
    yield (
        s.sent_at,
        {
            "event": "EMAIL_SENT",
            "timestamp": iso_s_z(s.sent_at),
            "campaign_id": c.id,
            "campaign_name": c.name,
            "lead_id": ctx.lead_id,
            "email_account_id": num_id(ctx.seed, 5_100_000, 100_000, "account", c.id),
            "sequence_number": n,
            "lead": full,
        },
    )
    if s.bounced_at is not None:
        yield (
            s.bounced_at,
            {
                "event": "EMAIL_BOUNCED",
                "timestamp": iso_s_z(s.bounced_at),
                "campaign_id": c.id,
                "campaign_name": c.name,
                "lead_id": ctx.lead_id,
                "email_account_id": num_id(ctx.seed, 5_100_000, 100_000, "account", c.id),
                "sequence_number": n,
                "lead": full,
            },
        )
    for count, (at, _machine) in enumerate(s.opens, start=1):
        yield (
            at,
            {
                "event": "EMAIL_OPENED",
                "timestamp": iso_s_z(at),
                "campaign_id": c.id,
                "lead_id": ctx.lead_id,
                "sequence_number": n,
                "opened_count": count,
                "first_opened_at": iso_s_z(s.opens[0][0]),
                "last_opened_at": iso_s_z(at),
                "lead": {"email": lead.email, "first_name": lead.first},
            },
        )
    for at, _bot, url in s.clicks:
        yield (
            at,
            {
                "event": "EMAIL_CLICKED",
                "timestamp": iso_s_z(at),
                "campaign_id": c.id,
                "lead_id": ctx.lead_id,
                "sequence_number": n,
                "link": {"url": url, "clicked_at": iso_s_z(at)},
                "lead": {"email": lead.email},
            },
        )
    if s.reply is not None and s.reply_at is not None:
        yield (
            s.reply_at,
            {
                "event": "EMAIL_REPLIED",
                "timestamp": iso_s_z(s.reply_at),
                "campaign_id": c.id,
                "campaign_name": c.name,
                "lead_id": ctx.lead_id,
                "email_account_id": num_id(ctx.seed, 5_100_000, 100_000, "account", c.id),
                "sequence_number": n,
                "lead": {**full, "custom_fields": {"job_title": lead.title}},
                "email": {"subject": s.subject, "message_id": s.message_id},
                "reply": {
                    "subject": f"Re: {s.subject}",
                    "body": s.reply.text,
                    "received_at": iso_s_z(s.reply_at),
                    "message_id": s.reply_message_id,
                },
            },
        )
    if s.unsubscribed_at is not None:
        yield (
            s.unsubscribed_at,
            {
                "event": "EMAIL_UNSUBSCRIBED",
                "timestamp": iso_s_z(s.unsubscribed_at),
                "campaign_id": c.id,
                "campaign_name": c.name,
                "lead_id": ctx.lead_id,
                "email_account_id": num_id(ctx.seed, 5_100_000, 100_000, "account", c.id),
                "sequence_number": n,
                "lead": full,
            },
        )
