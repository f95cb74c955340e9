"""LinkedIn (HeyReach webhooks) and SMS (Twilio form fields) touches of one lead.

HeyReach: a profile view, a connection request, its acceptance, a message and replies (the
first reply fires both ``message_reply_received`` and ``every_message_reply_received``, a later
one only the second); InMail campaigns send ``inmail_sent`` and get ``inmail_reply_received``.
Twilio: an outbound message's status callbacks (``sent``, then ``delivered`` or ``undelivered``
with an ``ErrorCode``; some arrive out of order) and the lead's inbound answer or ``STOP``.
Twilio bodies carry no time: the caller adds the receiver's ``_cis_receipt``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta

from cis.generate.apollo_people import rng_for
from cis.generate.event_files import b64_id, hex_id, iso_ms_z, num_id, uuid_text
from cis.generate.replies import pick_intent, reply_text
from cis.generate.timeline import Lead, business_moment

__all__ = ["heyreach_events", "twilio_events"]

LINKEDIN = "linkedin/events"
SMS = "sms/events"
WEEKDAYS = frozenset({0, 1, 2, 3, 4})
SENDERS = (("Maya", "Chen"), ("Jonas", "Weber"), ("Nina", "Patel"))
OPENERS = (
    "Thanks for connecting, {me}. We help teams like {company} cut manual reporting - "
    "happy to share how if useful.",
    "Hi {me}, good to connect. Curious how {company} handles this today?",
)
AREA = {"312": ("IL", "CHICAGO", "60601"), "212": ("NY", "NEW YORK", "10001")}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def heyreach_events(
    seed: int, lead: Lead, campaign_id: int, campaign_name: str, inmail: bool, day
) -> Iterator[tuple[datetime, str, dict]]:
    """(event time, event type, body) of one lead's LinkedIn campaign."""
    rng = rng_for(seed, "heyreach", lead.k, campaign_id)
    first, last = SENDERS[campaign_id % len(SENDERS)]
    sender = {
        "id": num_id(seed, 61_000, 1_000, "hr-sender", campaign_id),
        "first_name": first,
        "last_name": last,
        "full_name": f"{first} {last}",
        "email_address": f"{first.lower()}.{last.lower()}@outreach.example",
        "profile_url": f"https://www.linkedin.com/in/{first.lower()}-{last.lower()}-{campaign_id}",
    }
    profile = lead.linkedin_url or f"https://www.linkedin.com/in/{_slug(lead.name)}-{lead.k}"
    person = {
        "id": str(num_id(seed, 900_000_000, 99_000_000, "hr-lead", lead.k)),
        "profile_url": profile.replace("http://", "https://"),
        "first_name": lead.first,
        "last_name": lead.last,
        "full_name": lead.name,
        "location": lead.location,
        "company_name": lead.company,
        "company_url": f"https://www.linkedin.com/company/{_slug(lead.company)}",
        "position": lead.title,
        "email_address": lead.email,
    }
    campaign = {"id": campaign_id, "name": campaign_name}
    conversation = "2-" + b64_id(seed, "hr-conv", lead.k, campaign_id)

    def body(kind: str, at: datetime, messages: list[dict] | None = None) -> dict:
        out: dict = {
            "correlation_id": uuid_text(seed, "hr", lead.k, campaign_id, kind, at.isoformat()),
            "event_type": kind,
            "timestamp": iso_ms_z(at),
        }
        if messages is not None:
            out["is_inmail"] = inmail
            out["conversation_id"] = conversation
        out.update({"campaign": campaign, "sender": sender, "lead": person})
        if messages is not None:
            out["recent_messages"] = messages
        return out

    t0 = business_moment(rng, lead.zone, day, WEEKDAYS)
    if rng.random() < 0.25:
        at = t0 - timedelta(hours=1 + rng.random() * 20)
        yield at, "viewed_profile", body("viewed_profile", at)
    opener = OPENERS[int(rng.random() * len(OPENERS))].format(me=lead.first, company=lead.company)
    if inmail:
        sent_at = t0
        yield t0, "inmail_sent", body("inmail_sent", t0, [_msg(t0, opener, False)])
    else:
        yield t0, "connection_request_sent", body("connection_request_sent", t0)
        if rng.random() >= 0.45:
            return
        accepted = t0 + timedelta(hours=2 + rng.random() * 70)
        yield accepted, "connection_request_accepted", body("connection_request_accepted", accepted)
        sent_at = business_moment(rng, lead.zone, (accepted + timedelta(days=1)).date(), WEEKDAYS)
        yield sent_at, "message_sent", body("message_sent", sent_at, [_msg(sent_at, opener, False)])
    if rng.random() >= (0.15 if inmail else 0.25):
        return
    thread = [_msg(sent_at, opener, False)]
    answer = reply_text(rng, pick_intent(rng), first, lead.first, lead.company)
    at = sent_at + timedelta(minutes=30 + rng.random() * 60 * 48)
    thread.insert(0, _msg(at, answer.text, True))
    if inmail:
        yield at, "inmail_reply_received", body("inmail_reply_received", at, list(thread))
        return
    yield at, "message_reply_received", body("message_reply_received", at, list(thread))
    yield at, "every_message_reply_received", body("every_message_reply_received", at, list(thread))
    # A person at the agency often answers by hand from the inbox. No event reports that answer;
    # the next reply's delivery holds it in its history (int_inbox_messages). Drawn apart from
    # the campaign's own draws, so the rest of the data stays as it was.
    by_hand = rng_for(seed, "heyreach-answer", lead.k, campaign_id)
    if rng.random() < 0.3:
        later = at + timedelta(days=1 + rng.random() * 6)
        ours = INBOX_ANSWERS[int(by_hand.random() * len(INBOX_ANSWERS))]
        theirs = "Thanks - looping in a colleague next week."
        answered = by_hand.random() < 0.6
    elif by_hand.random() < 0.5:
        later = at + timedelta(hours=2 + by_hand.random() * 70)
        ours, theirs = INBOX_EXCHANGES[int(by_hand.random() * len(INBOX_EXCHANGES))]
        answered = True
    else:
        return
    if answered:
        minutes = 5 + by_hand.random() ** 2 * 900
        answered_at = min(at + timedelta(minutes=minutes), later - timedelta(minutes=10))
        thread.insert(0, _msg(answered_at, ours.format(them=lead.first, me=first), False))
    at = later
    thread.insert(0, _msg(at, theirs.format(them=lead.first, me=first), True))
    yield at, "every_message_reply_received", body("every_message_reply_received", at, thread)


# Answers a person at the agency writes from the inbox (HeyReach's unified inbox), and exchanges
# of such an answer and the lead's next message.
INBOX_EXCHANGES = (
    (
        "Thanks {them}! Would Tuesday or Wednesday afternoon work for 20 minutes?",
        "Wednesday 3pm works.",
    ),
    (
        "Happy to, {them}. I'll send a two-page overview - who else should see it?",
        "Just me for now.",
    ),
    ("Totally fair, {them}. Is it the timing or the fit?", "Timing mostly. Q3 would be better."),
    (
        "Thanks {them} - what does your current setup look like?",
        "Spreadsheets, honestly. Send details.",
    ),
)
INBOX_ANSWERS = (
    "Thanks {them}! Would Tuesday or Wednesday afternoon work for 20 minutes?",
    "Appreciate the quick reply, {them}. Happy to send over a short overview first - {me}",
    "Great to hear, {them}. Who else should be on the call from your side?",
    "Understood, {them} - thanks for being upfront. Mind if I check back in a few months?",
)


def _msg(at: datetime, text: str, is_reply: bool) -> dict:
    return {"creation_time": iso_ms_z(at), "message": text, "is_reply": is_reply}


def twilio_events(
    seed: int, lead: Lead, number: str, client_slug: str, day
) -> Iterator[tuple[datetime, str, dict, bool]]:
    """(event time, event name, form fields, out of order) of one outbound SMS and its answer.

    ``out of order`` marks a callback that arrives before the one written just after it.
    """
    rng = rng_for(seed, "twilio", lead.k, number)
    account = "AC" + hex_id(seed, 32, "twilio-account", client_slug)
    service = "MG" + hex_id(seed, 32, "twilio-service", client_slug)
    sid = "SM" + hex_id(seed, 32, "sms-out", lead.k, number)
    t0 = business_moment(rng, lead.zone, day, WEEKDAYS)
    to = lead.phone

    def callback(status: str, before: dict, after: dict) -> dict:
        out = dict(before)
        out.update(
            {
                "SmsSid": sid,
                "SmsStatus": status,
                "MessageStatus": status,
                "To": to,
                "MessagingServiceSid": service,
                "MessageSid": sid,
                "AccountSid": account,
                "From": number,
                "ApiVersion": "2010-04-01",
            }
        )
        out.update(after)
        return out

    sent_at = t0 + timedelta(seconds=1 + rng.random())
    done_at = sent_at + timedelta(seconds=3 + rng.random() * 20)
    delivered = rng.random() < 0.9
    dlr = {"RawDlrDoneDate": done_at.strftime("%y%m%d%H%M")} if rng.random() < 0.6 else {}
    if delivered:
        final = ("status_delivered", callback("delivered", {}, dlr))
    else:
        code = ("30003", "30005", "30006", "30007")[int(rng.random() * 4)]
        final = ("status_undelivered", callback("undelivered", {"ErrorCode": code}, dlr))
    sent = ("status_sent", callback("sent", {}, {}))
    if rng.random() < 0.12:  # the final state's callback arrives first
        yield done_at, final[0], final[1], True
        yield sent_at, sent[0], sent[1], False
    else:
        yield sent_at, sent[0], sent[1], False
        yield done_at, final[0], final[1], False
    if not delivered:
        return
    x = rng.random()
    if x >= 0.25:
        return
    stop = x < 0.05
    at = done_at + timedelta(minutes=2 + rng.random() * 60 * 30)
    text = (
        "STOP"
        if stop
        else reply_text(rng, pick_intent(rng), "", lead.first, lead.company)
        .text.replace("Hi , ", "")
        .replace(" , ", " ")
    )
    state, city, zip_code = AREA.get(number[2:5], ("", "", ""))
    inbound = {
        "ToCountry": "US",
        "ToState": state,
        "SmsMessageSid": (in_sid := "SM" + hex_id(seed, 32, "sms-in", lead.k, number)),
        "NumMedia": "0",
        "ToCity": city,
        "FromZip": "",
        "SmsSid": in_sid,
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": text,
        "FromCountry": "US" if to.startswith("+1") else "",
        "To": number,
        "MessagingServiceSid": service,
        "ToZip": zip_code,
        "NumSegments": str(1 + len(text) // 160),
        "MessageSid": in_sid,
        "AccountSid": account,
        "From": to,
        "ApiVersion": "2010-04-01",
    }
    if stop:
        inbound["OptOutType"] = "STOP"
    yield at, "opt_stop" if stop else "inbound_message", inbound, False
