"""The email campaigns of the demo: one per vendor campaign id in ``config/clients.yml``.

Each Smartlead campaign and Salesforge sequence gets 2-4 steps with a delay in days; step 1 is
an A/B test (one campaign also keeps a deleted variant C, ``is_deleted: true``), step 2 is a
threaded follow-up (empty subject: it goes out as ``Re: <step 1 subject>``) and a later step may
be A/B tested too. :func:`smartlead_campaign` and :func:`salesforge_sequence` render a campaign
in the vendor's own shape (``shared/contracts``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from cis.clients import Client
from cis.generate.apollo_people import rng_for
from cis.generate.event_files import hex_id, iso_ms_z, iso_s_z, num_id

__all__ = [
    "Campaign",
    "Step",
    "Variant",
    "build_campaigns",
    "render",
    "salesforge_sequence",
    "smartlead_campaign",
    "to_text",
]

SENDERS = (
    ("Maya", "Chen"),
    ("Tom", "Reyes"),
    ("Ava", "Lindgren"),
    ("Jonas", "Weber"),
    ("Nina", "Patel"),
    ("Luis", "Ortega"),
)
# (step-1 A subject, step-1 B subject, A body, B body with a link, step 3 subject, breakup)
THEMES = (
    (
        "{{first_name}}, a question about {{company_name}}",
        "cutting manual work at {{company_name}}",
        "<p>Hi {{first_name}},</p><p>Teams like {{company_name}} usually lose a day a week to "
        "reconciling data by hand. {product} automates that check end to end.</p>"
        "<p>Worth a 15-minute look?</p><p>%signature%</p>",
        "<p>{{first_name}} - quick one.</p><p>A customer your size cut close time by 3 days "
        "with {product}. Here is the two-page case study: https://{domain}/case-study</p>"
        "<p>Open to a short call next week?</p><p>%signature%</p>",
        "a benchmark for {{company_name}}",
        "<p>Hi {{first_name}}, I will close the loop here. If this becomes a priority at "
        "{{company_name}}, reply and I will send the details.</p><p>%signature%</p>",
    ),
    (
        "{{company_name}} + {product}",
        "idea for {{first_name}}",
        "<p>Hi {{first_name}},</p><p>Most {{company_name}}-sized teams we talk to are still "
        "stitching spreadsheets together every week. We built {product} to end that.</p>"
        "<p>Open to comparing notes?</p><p>%signature%</p>",
        "<p>Hi {{first_name}},</p><p>We put together a short benchmark of how peers of "
        "{{company_name}} run this: https://{domain}/benchmark</p><p>Want me to walk you "
        "through it?</p><p>%signature%</p>",
        "worth a look, {{first_name}}?",
        "<p>{{first_name}}, last note from me. Should I reach out to someone else at "
        "{{company_name}} instead?</p><p>%signature%</p>",
    ),
)
FOLLOW_UP = (
    "<p>Hi {{first_name}}, bumping this up in case it got buried. Would a short walkthrough for "
    "{{company_name}} be useful?</p><p>%signature%</p>"
)
STEP3_B = (
    "<p>Hi {{first_name}},</p><p>Three numbers from teams like {{company_name}}: 40% fewer "
    "manual hours, 2% recovered spend, 3 days faster close. Details: https://{domain}/numbers</p>"
    "<p>%signature%</p>"
)
LINKEDIN_NOTE = (
    "Hi {{first_name}}, I work with teams like {{company}} on cutting manual reconciliation - "
    "happy to connect."
)
_TAG = re.compile(r"<[^>]+>")
_PARAGRAPH = re.compile(r"</p>\s*<p>")
_URL = re.compile(r"https://[^\s<\"]+")


@dataclass(frozen=True)
class Variant:
    id: int | str
    label: str
    subject: str
    body: str
    split: int | None  # percentage; None means an equal split
    deleted: bool = False


@dataclass(frozen=True)
class Step:
    id: int | str
    number: int
    delay_days: int
    subject: str  # "" on a threaded follow-up
    body: str
    variants: tuple[Variant, ...] = ()

    def live_variants(self) -> tuple[Variant, ...]:
        return tuple(v for v in self.variants if not v.deleted)


@dataclass(frozen=True)
class Campaign:
    vendor: str  # smartlead | salesforge
    id: int | str
    name: str
    client: Client
    steps: tuple[Step, ...]
    created_at: datetime
    sender: tuple[str, str]  # first, last
    domain: str  # the sending domain
    tracking: bool = True  # open and click tracking on
    shape: str = "smartlead"  # smartlead | legacy | multichannel

    @property
    def sender_email(self) -> str:
        return f"{self.sender[0].lower()}.{self.sender[1].lower()}@{self.domain}"

    @property
    def sender_name(self) -> str:
        return f"{self.sender[0]} {self.sender[1]}"

    @property
    def tz(self) -> str:
        return self.client.time_zone


def client_domain(client: Client) -> str:
    """The agency's sending domain for a client, e.g. ``getnorthwind.com``."""
    return f"get{client.slug}.com"


def _steps(seed: int, vendor: str, cid: int | str, product: str, domain: str) -> tuple[Step, ...]:
    rng = rng_for(seed, "campaign-steps", vendor, cid)
    theme = THEMES[int(rng.random() * len(THEMES))]
    subject_a, subject_b, body_a, body_b, subject_3, breakup = (
        t.replace("{product}", product).replace("{domain}", domain) for t in theme
    )
    count = 2 + int(rng.random() * 3)  # 2-4 steps
    legacy = vendor == "salesforge"

    def ids(number: int, k: int | None = None) -> int | str:
        if legacy:
            return f"{'stp' if k is None else 'var'}_{hex_id(seed, 21, vendor, cid, number, k)}"
        base = num_id(seed, 3_900_000, 900_000, vendor, cid, number) * 10
        return base if k is None else (base // 10) * 10 + k + 60_000_000

    if legacy:  # Salesforge's placeholders

        def fix(text: str) -> str:
            return text.replace("{{company_name}}", "{{company}}").replace(
                "%signature%", "{{sender_first_name}}"
            )
    else:

        def fix(text: str) -> str:
            return text

    split = 50 if rng.random() < 0.5 else None
    first = [
        Variant(ids(1, 1), "A", fix(subject_a), fix(body_a), split),
        Variant(ids(1, 2), "B", fix(subject_b), fix(body_b), split),
    ]
    if rng.random() < 0.5 or vendor == "smartlead":
        first.append(Variant(ids(1, 3), "C", fix(subject_3), fix(body_a), None, deleted=True))
    steps = [Step(ids(1), 1, 0, first[0].subject, first[0].body, tuple(first))]
    steps.append(Step(ids(2), 2, 2 + int(rng.random() * 3), "", fix(FOLLOW_UP)))
    if count >= 3:
        body_3 = fix(STEP3_B.replace("{domain}", domain))
        variants: tuple[Variant, ...] = ()
        if rng.random() < 0.6:
            variants = (
                Variant(ids(3, 1), "A", fix(subject_3), fix(body_a), None),
                Variant(ids(3, 2), "B", fix(subject_3), body_3, None),
            )
        steps.append(
            Step(ids(3), 3, 3 + int(rng.random() * 3), fix(subject_3), fix(body_a), variants)
        )
    if count == 4:
        steps.append(Step(ids(4), 4, 5 + int(rng.random() * 4), "closing the loop", fix(breakup)))
    return tuple(steps)


def build_campaigns(clients: list[Client], seed: int, start: datetime) -> list[Campaign]:
    """Every active client's Smartlead campaigns and Salesforge sequences, in config order."""
    found: list[Campaign] = []
    for client in clients:
        if client.status != "active":
            continue
        domain = client_domain(client)
        product = client.name.split(" (")[0]
        for vendor in ("smartlead", "salesforge"):
            for raw in getattr(client.campaigns, vendor):
                cid: int | str = int(raw) if str(raw).isdigit() else str(raw)
                rng = rng_for(seed, "campaign", vendor, cid)
                shape = (
                    "smartlead"
                    if vendor == "smartlead"
                    else ("multichannel" if isinstance(cid, int) else "legacy")
                )
                steps = _steps(
                    seed, "salesforge" if shape == "legacy" else "smartlead", cid, product, domain
                )
                found.append(
                    Campaign(
                        vendor=vendor,
                        id=cid,
                        name=f"{product} - {' & '.join(client.icp.titles[:2]).title() or 'Leaders'}"
                        f" ({vendor}, {len(found) + 1})",
                        client=client,
                        steps=steps,
                        created_at=start - timedelta(days=10, seconds=int(rng.random() * 86400)),
                        sender=SENDERS[int(rng.random() * len(SENDERS))],
                        domain=domain,
                        tracking=rng.random() < 0.8 or not found,
                        shape=shape,
                    )
                )
    return found


def render(template: str, first: str, company: str, signature: str) -> str:
    """A template with the lead's and sender's values filled in (both vendors' placeholders)."""
    return (
        template.replace("{{first_name}}", first)
        .replace("{{company_name}}", company)
        .replace("{{company}}", company)
        .replace("%signature%", signature)
        .replace("{{sender_first_name}}", signature.split("<br>")[0].split(" ")[0])
    )


def to_text(html: str) -> str:
    """The plain-text part of a rendered HTML body, as the vendors send it."""
    return _TAG.sub("", _PARAGRAPH.sub(" ", html.replace("<br>", "\n"))).strip()


def links(html: str) -> list[str]:
    """The tracked links of a body."""
    return _URL.findall(html)


def smartlead_campaign(c: Campaign, seed: int) -> dict:
    """``GET /campaigns/{id}`` merged with ``/sequences`` (smartlead__campaign.jsonl)."""
    created = iso_ms_z(c.created_at)
    updated = iso_ms_z(c.created_at + timedelta(days=3, minutes=17))
    days = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 0}
    sequences = []
    for s in c.steps:
        variants = None
        if s.variants:
            variants = [
                {
                    "id": v.id,
                    "created_at": created,
                    "updated_at": created,
                    "is_deleted": v.deleted,
                    "subject": v.subject,
                    "email_body": v.body,
                    "email_campaign_seq_id": s.id,
                    "variant_label": v.label,
                    "optional_email_body_1": None,
                    "variant_distribution_percentage": v.split,
                }
                for v in s.variants
            ]
        elif s.number % 2:
            variants = []
        sequences.append(
            {
                "id": s.id,
                "created_at": created,
                "updated_at": created,
                "email_campaign_id": c.id,
                "seq_number": s.number,
                "subject": s.subject,
                "email_body": s.body,
                "seq_delay_details": {"delayInDays": s.delay_days},
                "sequence_variants": variants,
            }
        )
    return {
        "id": c.id,
        "user_id": num_id(seed, 200_000, 100_000, "user"),
        "created_at": created,
        "updated_at": updated,
        "status": "ACTIVE",
        "name": c.name,
        "track_settings": [] if c.tracking else ["DONT_EMAIL_OPEN", "DONT_LINK_CLICK"],
        "scheduler_cron_value": {
            "tz": c.tz,
            "days": [days[d] for d in c.client.sending_days],
            "endHour": "17:00",
            "startHour": "08:30",
        },
        "min_time_btwn_emails": 9,
        "max_leads_per_day": c.client.daily_new_leads or 60,
        "stop_lead_settings": "REPLY_TO_AN_EMAIL",
        "schedule_start_time": iso_ms_z(c.created_at + timedelta(days=5)),
        "enable_ai_esp_matching": True,
        "send_as_plain_text": False,
        "follow_up_percentage": 40,
        "unsubscribe_text": "Not relevant? Click here to opt out",
        "parent_campaign_id": None,
        "client_id": smartlead_client_id(c.client.slug, seed),
        "sequences": sequences,
    }


def smartlead_client_id(slug: str, seed: int) -> int:
    return num_id(seed, 20_000, 10_000, "smartlead-client", slug)


def salesforge_sequence(c: Campaign, seed: int) -> dict:
    """A legacy sequence (``seq_`` id, ``steps``) or a multichannel one (integer id, ``nodes``: a
    LinkedIn connection request with a note, then one email node per step)."""
    created = iso_s_z(c.created_at)
    if c.shape == "multichannel":
        branch = num_id(seed, 55_000, 1_000, "branch", c.id)
        # It opens with a LinkedIn connection request and a note (what linkedin_replied answers).
        nodes: list[dict] = [
            {
                "id": num_id(seed, 90_000, 10_000, "linkedin-node", c.id),
                "type": "action",
                "channel": "linkedin",
                "name": "Send connection request",
                "actionId": 7,
                "branchId": branch,
                "waitDays": 0,
                "distributionStrategy": "equal",
                "variants": [
                    {
                        "id": num_id(seed, 120_000, 10_000, "linkedin-variant", c.id),
                        "isEnabled": True,
                        "exposureInPercentage": 100,
                        "metadata": {"name": "Variant A", "message": LINKEDIN_NOTE},
                    }
                ],
            }
        ]
        for s in c.steps:
            variants = s.live_variants() or (Variant(s.id, "A", s.subject, s.body, 100),)
            nodes.append(
                {
                    "id": s.id,
                    "type": "action",
                    "channel": "email",
                    "name": "Send email",
                    "actionId": 1,
                    "branchId": branch,
                    "waitDays": s.delay_days,
                    "distributionStrategy": "equal" if len(variants) > 1 else "custom",
                    "variants": [
                        {
                            "id": v.id,
                            "isEnabled": True,
                            "exposureInPercentage": v.split or round(100 / len(variants)),
                            "metadata": {
                                "name": f"Variant {v.label}",
                                "subject": v.subject,
                                "message": v.body,
                            },
                        }
                        for v in variants
                    ],
                }
            )
        return {
            "id": c.id,
            "name": c.name,
            "description": "LinkedIn and email touches for " + c.client.name,
            "timezone": c.tz,
            "status": "active",
            "createdAt": created,
            "nodes": nodes,
        }
    steps = []
    for s in c.steps:
        variants = s.live_variants() or (Variant(f"var_{s.id[4:]}", "A", s.subject, s.body, 100),)
        steps.append(
            {
                "id": s.id,
                "order": s.number,
                "name": f"Step {s.number}",
                "waitDays": s.delay_days,
                "variants": [
                    {
                        "id": v.id,
                        "order": n,
                        "label": f"Variant {v.label}",
                        "emailSubject": v.subject,
                        "emailContent": v.body,
                        "distributionWeight": v.split or round(100 / len(variants)),
                    }
                    for n, v in enumerate(variants, start=1)
                ],
            }
        )
    return {
        "id": c.id,
        "name": c.name,
        "status": "active",
        "productId": f"prd_{hex_id(seed, 21, 'product', c.client.slug)}",
        "language": "american_english",
        "timezone": c.tz,
        "createdAt": created,
        "updatedAt": iso_s_z(c.created_at + timedelta(days=4, hours=7)),
        "mailboxIds": [mailbox_id(c, seed)],
        "contactCount": 0,
        "steps": steps,
    }


def mailbox_id(c: Campaign, seed: int) -> str:
    return f"mbox_{hex_id(seed, 21, 'mailbox', c.id)}"
