"""Smartlead deliveries of one lead's sends: webhooks in both dialects and statistics rows.

Dialect A (``event_type`` EMAIL_SENT, EMAIL_OPEN, EMAIL_LINK_CLICK, EMAIL_REPLY, EMAIL_BOUNCE,
LEAD_UNSUBSCRIBED, LEAD_CATEGORY_UPDATED) carries the full envelope with its time formats;
dialect B (``event`` EMAIL_SENT, EMAIL_OPENED, EMAIL_CLICKED, EMAIL_REPLIED, EMAIL_BOUNCED,
EMAIL_UNSUBSCRIBED, ``timestamp`` with ``Z`` and no fraction, nested ``lead{}``) the short one.
Field order and formats follow ``shared/contracts/smartlead__webhook.jsonl`` and
``smartlead__statistics.jsonl``. A statistics row is written in its final state, and some also
in earlier versions (:func:`statistics_versions`), as pulls saw them before an open, a click or
the reply was recorded.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
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

__all__ = ["LeadOutcome", "statistics_row", "statistics_versions", "webhooks"]

WEBHOOKS = "smartlead/webhooks"
STATISTICS = "smartlead/statistics"


def _stamp_s(t: datetime | None) -> str | None:
    """Statistics times other than sending: second precision, written ``.000Z``."""
    return None if t is None else iso_ms_z(t.replace(microsecond=0))


@dataclass(frozen=True)
class LeadOutcome:
    """What a statistics row says about the lead (not the send): its category and whether it
    unsubscribed, with the times these became known (for the earlier versions of a row)."""

    category: str | None = None
    category_at: datetime | None = None
    unsubscribed_at: datetime | None = None

    @property
    def unsubscribed(self) -> bool:
        return self.unsubscribed_at is not None


VERSIONED_SHARE = 0.4  # of rows with an open, click or reply: also written as first pulled
INTERMEDIATE_SHARE = 0.35  # of the moments between two changes of such a row: a version too


def statistics_row(lead: Lead, c: Campaign, s: Send, category: str | None, unsub: bool) -> dict:
    """One ``data[]`` row of the campaign statistics (final state)."""
    return _row(lead, c, s, category, unsub)


def statistics_versions(
    rng: random.Random,
    lead: Lead,
    c: Campaign,
    s: Send,
    outcome: LeadOutcome,
) -> list[dict]:
    """Earlier versions of the row of ``s``, oldest first, as pulls before its final state saw
    them (the final row itself not included; often none).

    A share of the rows that later got an open, a click or a reply is also seen as it was just
    after sending (times null, counts 0, no category), and some also between two later changes
    (an open recorded, the reply not yet). Every field an earlier version has set holds the
    value of the final row; counts only grow.
    """
    reply_at = s.reply_at or s.stamped_reply_at
    if not (s.opens or s.clicks or reply_at) or rng.random() >= VERSIONED_SHARE:
        return []
    changes = {at for at, _machine in s.opens} | {at for at, _bot, _url in s.clicks}
    for t in (reply_at, s.bounced_at, outcome.category_at, outcome.unsubscribed_at):
        if t is not None:
            changes.add(t)
    moments = [s.sent_at]
    moments.extend(t for t in sorted(changes)[:-1] if rng.random() < INTERMEDIATE_SHARE)
    final = statistics_row(lead, c, s, outcome.category, outcome.unsubscribed)
    versions: list[dict] = []
    for moment in moments:
        known = outcome.category_at is not None and outcome.category_at <= moment
        unsub = outcome.unsubscribed_at is not None and outcome.unsubscribed_at <= moment
        row = _row(lead, c, s, outcome.category if known else None, unsub, as_of=moment)
        if row != final and (not versions or row != versions[-1]):
            versions.append(row)
    return versions


def _row(
    lead: Lead,
    c: Campaign,
    s: Send,
    category: str | None,
    unsub: bool,
    as_of: datetime | None = None,
) -> dict:
    """The row as it stood at ``as_of`` (the send's opens, clicks, reply and bounce by then; the
    lead-level ``category`` and ``unsub`` as given), or in its final state."""

    def seen(t: datetime | None) -> bool:
        return t is not None and (as_of is None or t <= as_of)

    opens = s.opens if as_of is None else [x for x in s.opens if x[0] <= as_of]
    clicks = s.clicks if as_of is None else [x for x in s.clicks if x[0] <= as_of]
    first_open = opens[0][0] if opens else None
    first_click = clicks[0][0] if clicks else None
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
        "reply_time": _stamp_s(reply_at if seen(reply_at) else None),
        "open_count": len(opens),
        "click_count": len(clicks),
        "is_unsubscribed": unsub,
        "is_bounced": seen(s.bounced_at),
        "ignore_reply": False,
    }


def smartlead_lead_id(seed: int, lead: Lead, c: Campaign) -> int:
    """Smartlead's id of the lead in the campaign (``sl_email_lead_id``, dialect B's ``lead_id``)."""
    return num_id(seed, 2_200_000_000, 90_000_000, "sl-lead", lead.k, c.id)


class _Ctx:
    def __init__(self, seed: int, lead: Lead, c: Campaign) -> None:
        self.seed = seed
        self.lead = lead
        self.c = c
        self.lead_id = smartlead_lead_id(seed, lead, c)
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

    def envelope_b(
        self,
        event: str,
        at: datetime,
        s: Send,
        lead: dict,
        *,
        engagement: dict | None = None,
        after: dict | None = None,
    ) -> dict:
        """A dialect-B body: ``event``, ``timestamp`` (``Z``, no fraction), the campaign, the
        lead id, the step and the nested ``lead{}``.

        Engagement events (``engagement`` given: opens, clicks) carry the short envelope, without
        ``campaign_name`` and ``email_account_id``, and their own fields before ``lead{}``; the
        others the full one, with ``after`` (a reply's ``email{}``/``reply{}``) after ``lead{}``.
        """
        body: dict = {"event": event, "timestamp": iso_s_z(at), "campaign_id": self.c.id}
        if engagement is None:
            body["campaign_name"] = self.c.name
        body["lead_id"] = self.lead_id
        if engagement is None:
            body["email_account_id"] = self.email_account_id
        body["sequence_number"] = s.step.number
        if engagement is not None:
            body.update(engagement)
        body["lead"] = lead
        if after is not None:
            body.update(after)
        return body

    @property
    def email_account_id(self) -> int:
        """The Smartlead sending account of the campaign (dialect B's ``email_account_id``)."""
        return num_id(self.seed, 5_100_000, 100_000, "account", self.c.id)


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
    lead = ctx.lead
    full = {
        "email": lead.email,
        "first_name": lead.first,
        "last_name": lead.last,
        "company_name": lead.company,
    }
    yield s.sent_at, ctx.envelope_b("EMAIL_SENT", s.sent_at, s, full)
    if s.bounced_at is not None:
        yield s.bounced_at, ctx.envelope_b("EMAIL_BOUNCED", s.bounced_at, s, full)
    for count, (at, _machine) in enumerate(s.opens, start=1):
        opened = {
            "opened_count": count,
            "first_opened_at": iso_s_z(s.opens[0][0]),
            "last_opened_at": iso_s_z(at),
        }
        short = {"email": lead.email, "first_name": lead.first}
        yield at, ctx.envelope_b("EMAIL_OPENED", at, s, short, engagement=opened)
    for at, _bot, url in s.clicks:
        link = {"link": {"url": url, "clicked_at": iso_s_z(at)}}
        yield at, ctx.envelope_b("EMAIL_CLICKED", at, s, {"email": lead.email}, engagement=link)
    if s.reply is not None and s.reply_at is not None:
        replied = {
            "email": {"subject": s.subject, "message_id": s.message_id},
            "reply": {
                "subject": f"Re: {s.subject}",
                "body": s.reply.text,
                "received_at": iso_s_z(s.reply_at),
                "message_id": s.reply_message_id,
            },
        }
        person = {**full, "custom_fields": {"job_title": lead.title}}
        yield s.reply_at, ctx.envelope_b("EMAIL_REPLIED", s.reply_at, s, person, after=replied)
    if s.unsubscribed_at is not None:
        at = s.unsubscribed_at
        yield at, ctx.envelope_b("EMAIL_UNSUBSCRIBED", at, s, full)
