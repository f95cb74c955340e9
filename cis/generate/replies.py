"""Short, realistic reply texts of prospects, by intent, for email, LinkedIn and SMS.

An intent names what the prospect meant; each vendor labels it its own way (Smartlead lead
categories, Salesforge labels). Texts use ``{first}`` (our sender's first name), ``{me}`` (the
prospect's first name), ``{company}`` and ``{day}``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["INTENTS", "Reply", "pick_intent", "reply_text", "smartlead_category"]

# (intent, share of replies)
INTENTS: tuple[tuple[str, float], ...] = (
    ("interested", 0.18),
    ("meeting_request", 0.08),
    ("not_now", 0.16),
    ("not_interested", 0.24),
    ("out_of_office", 0.16),
    ("wrong_person", 0.08),
    ("unsubscribe", 0.10),
)

TEXTS: dict[str, tuple[str, ...]] = {
    "interested": (
        "Hi {first}, this is timely - we are reviewing vendors this quarter. Can you send more detail?",
        "Thanks {first}. Curious how this would work for {company}. What does pricing look like?",
        "Sounds interesting. Send over the sample and I will take a look.",
        "Hi {first} - yes, happy to learn more. Who else at {company} should be on the call?",
    ),
    "meeting_request": (
        "Hi {first}, sure - does {day} at 10am work? Send an invite.",
        "Happy to chat. {day} afternoon is open on my side.",
        "Let's do 20 minutes {day}. My assistant can set it up.",
    ),
    "not_now": (
        "Not a priority right now, {first}. Try me again next quarter.",
        "We are mid-migration until the end of the year. Reach out in January?",
        "Bad timing - budget is frozen until Q2. Happy to revisit then.",
    ),
    "not_interested": (
        "Not interested, thanks.",
        "We already have a solution for this. Please take me off your list for now.",
        "No thanks - {company} handles this in-house.",
        "Not a fit for us.",
    ),
    "out_of_office": (
        "Thank you for your email. I am out of the office until {day} with limited access to email.",
        "Automatic reply: I am on leave and will respond when I return on {day}.",
        "I'm travelling this week with limited connectivity. For urgent matters contact the office.",
    ),
    "wrong_person": (
        "I'm not the right person for this - try our operations lead.",
        "Wrong contact, I moved to a different team. Not sure who owns this now.",
        "{me} here - I don't handle vendors at {company}, sorry.",
    ),
    "unsubscribe": (
        "Please remove me from your mailing list.",
        "Unsubscribe.",
        "Stop emailing me.",
        "Take me off this list please.",
    ),
}

SMARTLEAD_CATEGORIES = {
    "interested": (1, "Interested"),
    "meeting_request": (2, "Meeting Request"),
    "not_interested": (3, "Not Interested"),
    "unsubscribe": (4, "Do Not Contact"),
    "not_now": (5, "Information Request"),
    "out_of_office": (6, "Out Of Office"),
    "wrong_person": (7, "Wrong Person"),
}
POSITIVE = {"interested", "meeting_request"}
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")


@dataclass(frozen=True)
class Reply:
    """A prospect's reply: what they meant and what they wrote."""

    intent: str
    text: str

    @property
    def is_positive(self) -> bool:
        return self.intent in POSITIVE

    @property
    def html(self) -> str:
        return f'<div dir="ltr">{self.text}</div>'


def pick_intent(rng: random.Random) -> str:
    """An intent drawn with the shares of :data:`INTENTS`."""
    x = rng.random()
    for intent, share in INTENTS:
        x -= share
        if x < 0:
            return intent
    return INTENTS[-1][0]


def reply_text(rng: random.Random, intent: str, sender_first: str, me: str, company: str) -> Reply:
    """A reply of ``intent`` with the names filled in."""
    template = TEXTS[intent][int(rng.random() * len(TEXTS[intent]))]
    day = DAYS[int(rng.random() * len(DAYS))]
    return Reply(intent, template.format(first=sender_first, me=me, company=company, day=day))


def smartlead_category(intent: str) -> tuple[int, str]:
    """Smartlead's lead category (id, name) for an intent."""
    return SMARTLEAD_CATEGORIES[intent]
