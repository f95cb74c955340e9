"""Twilio (SMS): inbound messages, STOP opt-outs and status callbacks from the landing kind
``sms/events`` into ``raw_twilio`` (form fields as a JSON object of strings).

Twilio's bodies carry no time: the receiver's receipt time is the event's. An inbound message
is keyed by ``MessageSid``; a status callback by (``MessageSid``, ``MessageStatus``), since
Twilio calls once per transition and possibly out of order.
"""

from __future__ import annotations

from ingestion.events import EventFacts, EventKind, EventProblem, digest
from ingestion.events.facts import first_text

DATASET = "raw_twilio"


def describe_message(body: dict, receipt: dict) -> EventFacts:
    sid = first_text(body, ("MessageSid",), ("SmsMessageSid",), ("SmsSid",))
    if sid is None:
        raise EventProblem("no MessageSid (nor SmsSid): not a Twilio message or callback")
    status = first_text(body, ("MessageStatus",))
    if status is not None:
        name = f"status_{status.lower()}"
    elif first_text(body, ("OptOutType",)):
        name = f"opt_{first_text(body, ('OptOutType',)).lower()}"
    else:
        name = "inbound_message"
    key = digest("twilio", sid, status) if status else digest("twilio", sid)
    # A status callback is about a message the agency sent (From: the agency's number, To: the
    # lead); an inbound message the other way round. The agency's number is the "campaign"
    # the clients config claims (campaigns.twilio).
    ours, theirs = ("From", "To") if status else ("To", "From")
    return EventFacts(key, name, first_text(body, (ours,)), lead_phone=first_text(body, (theirs,)))


KINDS = (EventKind("sms/events", "webhook_events", "twilio_message", describe_message),)
