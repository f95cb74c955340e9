"""Just-in-time validation: may this lead be contacted for this client on this channel, now?

Every enabled rule is evaluated and *all* failures are reported. Rules live in a registry
(:data:`RULES`), each a small named check over a :class:`RuleContext`; thresholds come from
:class:`ValidationSettings`. Rule names are stable strings used in reports and stored in
``cis.validation_results.failed_rules``.

Contact history is taken across all clients and channels unless a rule says otherwise, and
events after ``now`` are ignored (so validating "as of" a past time is reproducible). Events
without a ``lead_id`` but with an ``email`` column value are matched to leads by email
(case-insensitive).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

from cis.clients import Client
from cis.pool._frames import (
    company_excluded,
    ensure_columns,
    id_strings,
    is_blank,
    lower_strings,
    to_utc,
    utc_series,
)
from cis.pool.allocation import prepare_assignments

CHANNELS = ("email", "linkedin", "sms", "voice")
RULE_NAMES: tuple[str, ...] = (
    "bounced",
    "unsubscribed",
    "do_not_contact",
    "email_not_verified",
    "missing_channel_address",
    "not_assigned_to_client",
    "already_replied",
    "already_converted",
    "recent_touch_any_channel",
    "recent_touch_same_channel",
    "max_touches_reached",
    "not_interested_cooling",
    "company_excluded",
    "missing_personalization",
)
EVENT_COLUMNS = ("lead_id", "client_id", "channel", "event_type", "occurred_at", "email")
_ADDRESS_FIELD = {"linkedin": "linkedin_url", "sms": "phone", "voice": "phone"}


@dataclass(frozen=True)
class ValidationSettings:
    """Thresholds of the validation rules, and which rules run.

    Attributes
    ----------
    any_channel_gap_days : float
        Minimum days since the last touch on any channel.
    same_channel_gap_days : float
        Minimum days since the last touch on the channel being validated.
    max_touches : int
        A lead touched this many times (all channels, all clients) is not touched again.
    not_interested_cooling_days : float
        Days a ``not_interested`` event blocks further contact.
    enabled_rules : frozenset of str
        Names from :data:`RULE_NAMES`; all by default. Unknown names raise ValueError.
    """

    any_channel_gap_days: float = 3
    same_channel_gap_days: float = 7
    max_touches: int = 10
    not_interested_cooling_days: float = 365
    enabled_rules: frozenset[str] = frozenset(RULE_NAMES)

    def __post_init__(self) -> None:
        rules = frozenset(self.enabled_rules)
        object.__setattr__(self, "enabled_rules", rules)
        unknown = rules - set(RULE_NAMES)
        if unknown:
            raise ValueError(f"unknown validation rules {sorted(unknown)}; known: {RULE_NAMES}")


@dataclass(frozen=True)
class RuleFailure:
    """A rule that blocks contact, with a human-readable reason."""

    rule: str
    detail: str


@dataclass(frozen=True)
class ValidationResult:
    """The verdict for one lead, client and channel; ``failures`` lists every failed rule."""

    lead_id: str
    client_slug: str
    channel: str
    allowed: bool
    failures: tuple[RuleFailure, ...] = ()

    @property
    def failed_rules(self) -> tuple[str, ...]:
        """The names of the failed rules, in registry order."""
        return tuple(f.rule for f in self.failures)


@dataclass(frozen=True)
class ValidationSummary:
    """Counts over a batch of results; ``failures_by_rule`` is sorted by count, descending."""

    checked: int
    allowed: int
    blocked: int
    block_rate: float
    failures_by_rule: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LeadHistory:
    """What the assignment and contact history says about one lead (events up to ``now``)."""

    active_for_client: bool = False
    converted: bool = False
    bounced_at: pd.Timestamp | None = None
    unsubscribed_at: pd.Timestamp | None = None
    do_not_contact_at: pd.Timestamp | None = None
    replied_at: pd.Timestamp | None = None
    not_interested_at: pd.Timestamp | None = None
    last_touch_any: pd.Timestamp | None = None
    last_touch_channel: pd.Timestamp | None = None
    touch_count: int = 0


@dataclass(frozen=True)
class RuleContext:
    """Everything a rule may look at."""

    lead: Mapping
    client: Client
    channel: str
    now: pd.Timestamp
    settings: ValidationSettings
    history: LeadHistory

    def value(self, key: str) -> object:
        """The lead's value for ``key`` (None when absent or blank)."""
        value = self.lead.get(key)
        return None if is_blank(value) else value

    def pool_status(self) -> str | None:
        """The lead's ``pool_status`` in lower case, or None."""
        value = self.value("pool_status")
        return None if value is None else str(value).strip().lower()


@dataclass(frozen=True)
class Rule:
    """A named check: returns a failure detail, or None when the rule passes."""

    name: str
    description: str
    check: Callable[[RuleContext], str | None]


# --- rules --------------------------------------------------------------------------------


def _when(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def _age_days(ctx: RuleContext, ts: pd.Timestamp) -> float:
    return (ctx.now - ts) / pd.Timedelta(days=1)


def _suppression(event_attr: str, status: str, what: str) -> Callable[[RuleContext], str | None]:
    def check(ctx: RuleContext) -> str | None:
        at = getattr(ctx.history, event_attr)
        if at is not None:
            return f"{what} event at {_when(at)}"
        if ctx.pool_status() == status:
            return f"pool_status is {status}"
        return None

    return check


def _email_not_verified(ctx: RuleContext) -> str | None:
    if ctx.channel != "email":
        return None
    if ctx.value("email") is None:
        return "no email address"
    status = ctx.value("email_status")
    allowed = tuple(str(s).strip().lower() for s in ctx.client.allowed_email_statuses)
    if status is None or str(status).strip().lower() not in allowed:
        return f"email_status {status!r} is not one of {', '.join(allowed)}"
    return None


def _missing_channel_address(ctx: RuleContext) -> str | None:
    key = _ADDRESS_FIELD.get(ctx.channel)
    if key is not None and ctx.value(key) is None:
        return f"{ctx.channel} needs {key}"
    return None


def _is_converted(ctx: RuleContext) -> bool:
    return ctx.history.converted or ctx.pool_status() == "converted"


def _not_assigned_to_client(ctx: RuleContext) -> str | None:
    if ctx.history.active_for_client or _is_converted(ctx):
        return None  # a converted lead is reported by already_converted only
    return f"no active assignment to {ctx.client.slug}"


def _already_replied(ctx: RuleContext) -> str | None:
    at = ctx.history.replied_at
    return None if at is None else f"replied at {_when(at)}"


def _already_converted(ctx: RuleContext) -> str | None:
    if ctx.history.converted:
        return "lead has a converted assignment"
    if ctx.pool_status() == "converted":
        return "pool_status is converted"
    return None


def _recent(at: pd.Timestamp | None, ctx: RuleContext, gap_days: float, what: str) -> str | None:
    if at is None:
        return None
    age = _age_days(ctx, at)
    if age < gap_days:
        return f"{what} at {_when(at)} ({age:.1f} days ago; minimum gap {gap_days:g} days)"
    return None


def _recent_touch_any_channel(ctx: RuleContext) -> str | None:
    return _recent(ctx.history.last_touch_any, ctx, ctx.settings.any_channel_gap_days, "last touch")


def _recent_touch_same_channel(ctx: RuleContext) -> str | None:
    return _recent(
        ctx.history.last_touch_channel,
        ctx,
        ctx.settings.same_channel_gap_days,
        f"last {ctx.channel} touch",
    )


def _max_touches_reached(ctx: RuleContext) -> str | None:
    count, limit = ctx.history.touch_count, ctx.settings.max_touches
    return f"{count} touches; maximum {limit}" if count >= limit else None


def _not_interested_cooling(ctx: RuleContext) -> str | None:
    return _recent(
        ctx.history.not_interested_at,
        ctx,
        ctx.settings.not_interested_cooling_days,
        "not interested",
    )


def _company_excluded(ctx: RuleContext) -> str | None:
    match = company_excluded(ctx.lead, ctx.client.excluded_companies)
    return None if match is None else f"{match} is excluded by {ctx.client.slug}"


def _missing_personalization(ctx: RuleContext) -> str | None:
    missing = [f for f in ctx.client.required_fields if ctx.value(f) is None]
    return f"missing {', '.join(missing)}" if missing else None


RULES: tuple[Rule, ...] = (
    Rule(
        "bounced",
        "a bounce event anywhere, or pool_status bounced",
        _suppression("bounced_at", "bounced", "bounce"),
    ),
    Rule(
        "unsubscribed",
        "an unsubscribe event anywhere, or pool_status unsubscribed",
        _suppression("unsubscribed_at", "unsubscribed", "unsubscribe"),
    ),
    Rule(
        "do_not_contact",
        "a do_not_contact event anywhere, or pool_status do_not_contact",
        _suppression("do_not_contact_at", "do_not_contact", "do_not_contact"),
    ),
    Rule(
        "email_not_verified",
        "email channel: no address, or email_status not allowed by the client",
        _email_not_verified,
    ),
    Rule(
        "missing_channel_address",
        "linkedin needs linkedin_url; sms and voice need phone",
        _missing_channel_address,
    ),
    Rule(
        "not_assigned_to_client",
        "no active assignment of the lead to this client (converted leads excepted)",
        _not_assigned_to_client,
    ),
    Rule("already_replied", "a reply event on any client or channel", _already_replied),
    Rule(
        "already_converted",
        "a converted assignment, or pool_status converted",
        _already_converted,
    ),
    Rule(
        "recent_touch_any_channel",
        "a touch on any channel within any_channel_gap_days",
        _recent_touch_any_channel,
    ),
    Rule(
        "recent_touch_same_channel",
        "a touch on this channel within same_channel_gap_days",
        _recent_touch_same_channel,
    ),
    Rule(
        "max_touches_reached",
        "touches on all channels and clients >= max_touches",
        _max_touches_reached,
    ),
    Rule(
        "not_interested_cooling",
        "a not_interested event within not_interested_cooling_days",
        _not_interested_cooling,
    ),
    Rule(
        "company_excluded",
        "company_domain or company_name in the client's excluded_companies",
        _company_excluded,
    ),
    Rule(
        "missing_personalization",
        "a field the client's personalisation requires is empty",
        _missing_personalization,
    ),
)
if tuple(r.name for r in RULES) != RULE_NAMES:  # pragma: no cover - guards edits
    raise RuntimeError("cis.pool.validation: RULES and RULE_NAMES must agree")


# --- validation ---------------------------------------------------------------------------


def validate_lead(
    lead: Mapping,
    client: Client,
    channel: str,
    assignments: pd.DataFrame | None,
    events: pd.DataFrame | None,
    now: datetime | pd.Timestamp,
    settings: ValidationSettings | None = None,
) -> ValidationResult:
    """Validate one lead for one client and channel.

    Parameters
    ----------
    lead : Mapping
        One ``dim_leads`` row (dict or pandas Series).
    client : Client
        The client the contact would be for.
    channel : str
        One of ``CHANNELS``; anything else raises ValueError.
    assignments : pandas.DataFrame or None
        Assignment history (``cis.lead_assignments``).
    events : pandas.DataFrame or None
        Contact events (``cis.contact_events``).
    now : datetime or pandas.Timestamp
        The validation time (naive values are taken as UTC).
    settings : ValidationSettings, optional
        Thresholds and enabled rules; defaults to ``ValidationSettings()``.

    Returns
    -------
    ValidationResult
        ``allowed`` is True when no enabled rule fails; ``failures`` lists all that do.
    """
    return _validate_records([lead], client, channel, assignments, events, now, settings)[0]


def validate_lead_rows(
    lead: Mapping,
    client: Client,
    channel: str,
    assignments: Iterable[Mapping],
    events: Iterable[Mapping],
    now: datetime | pd.Timestamp,
    settings: ValidationSettings | None = None,
) -> ValidationResult:
    """Validate one lead from plain rows, without building frames: the pre-send fast path.

    Gives the result :func:`validate_lead` and :func:`validate_batch` give for the same lead
    and history, in microseconds rather than milliseconds: the history is a handful of rows,
    folded in plain Python with the same normalisation (ids as text, statuses, channels and
    addresses stripped and lower-cased, times in UTC, events after ``now`` ignored).

    Parameters
    ----------
    lead : Mapping
        One ``dim_leads`` row.
    client, channel, now, settings
        As for :func:`validate_lead`.
    assignments : iterable of Mapping
        Assignment rows (``lead_id``, ``client_id``, ``assignment_status``); rows of other
        leads are ignored, so the lead's own rows are enough.
    events : iterable of Mapping
        Contact event rows (``lead_id``, ``email``, ``channel``, ``event_type``,
        ``occurred_at``); rows of other leads are ignored. A row without ``lead_id`` counts
        for the lead when its ``email`` matches the lead's (case-insensitive).

    Returns
    -------
    ValidationResult
    """
    _check_channel(channel)
    settings = settings or ValidationSettings()
    now = to_utc(now)
    raw_id, raw_email = lead.get("lead_id"), lead.get("email")
    lead_id = None if is_blank(raw_id) else str(raw_id)
    email = None if is_blank(raw_email) else str(raw_email).strip().lower()
    history = (
        LeadHistory()
        if lead_id is None
        else _history_from_rows(lead_id, email, client, channel, assignments, events, now)
    )
    return _verdict(lead, lead_id, client, channel, now, settings, history)


def validate_batch(
    leads: pd.DataFrame,
    client: Client,
    channel: str,
    assignments: pd.DataFrame | None,
    events: pd.DataFrame | None,
    now: datetime | pd.Timestamp,
    settings: ValidationSettings | None = None,
) -> list[ValidationResult]:
    """Validate many leads for one client and channel.

    The histories are grouped by lead once (vectorised), so ~10k leads take well under a
    second. Parameters are as for :func:`validate_lead`, with ``leads`` a ``dim_leads`` frame.

    Returns
    -------
    list of ValidationResult
        One per lead row, in the frame's order; empty for an empty frame.
    """
    if leads is None or leads.empty:
        _check_channel(channel)
        return []
    records = leads.to_dict("records")
    return _validate_records(records, client, channel, assignments, events, now, settings)


def summarise(results: Iterable[ValidationResult]) -> ValidationSummary:
    """Count allowed and blocked results and failures per rule.

    Parameters
    ----------
    results : iterable of ValidationResult

    Returns
    -------
    ValidationSummary
        ``block_rate`` is blocked / checked (0.0 when nothing was checked);
        ``failures_by_rule`` counts results failing each rule, largest first (ties in
        registry order), rules that never failed left out.
    """
    checked = allowed = 0
    counts = dict.fromkeys(RULE_NAMES, 0)
    for result in results:
        checked += 1
        allowed += int(result.allowed)
        for rule in set(result.failed_rules):
            counts[rule] = counts.get(rule, 0) + 1
    blocked = checked - allowed
    order = {name: i for i, name in enumerate(RULE_NAMES)}
    ranked = sorted(
        ((r, n) for r, n in counts.items() if n), key=lambda rn: (-rn[1], order.get(rn[0], 99))
    )
    return ValidationSummary(
        checked=checked,
        allowed=allowed,
        blocked=blocked,
        block_rate=blocked / checked if checked else 0.0,
        failures_by_rule=dict(ranked),
    )


def _check_channel(channel: str) -> None:
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}; expected one of {CHANNELS}")


def _validate_records(
    records: Sequence[Mapping],
    client: Client,
    channel: str,
    assignments: pd.DataFrame | None,
    events: pd.DataFrame | None,
    now: datetime | pd.Timestamp,
    settings: ValidationSettings | None,
) -> list[ValidationResult]:
    _check_channel(channel)
    settings = settings or ValidationSettings()
    now = to_utc(now)
    lead_ids = [None if is_blank(r.get("lead_id")) else str(r.get("lead_id")) for r in records]
    emails = [
        None if is_blank(r.get("email")) else str(r.get("email")).strip().lower() for r in records
    ]
    histories = _histories(lead_ids, emails, client, channel, assignments, events, now)
    empty = LeadHistory()
    return [
        _verdict(record, lead_id, client, channel, now, settings, histories.get(lead_id, empty))
        for record, lead_id in zip(records, lead_ids, strict=True)
    ]


def _verdict(
    record: Mapping,
    lead_id: str | None,
    client: Client,
    channel: str,
    now: pd.Timestamp,
    settings: ValidationSettings,
    history: LeadHistory,
) -> ValidationResult:
    """Run every enabled rule on one lead and its history."""
    ctx = RuleContext(record, client, channel, now, settings, history)
    failures = []
    for rule in RULES:
        if rule.name in settings.enabled_rules:
            detail = rule.check(ctx)
            if detail is not None:
                failures.append(RuleFailure(rule.name, detail))
    return ValidationResult(
        lead_id=str(lead_id),
        client_slug=client.slug,
        channel=channel,
        allowed=not failures,
        failures=tuple(failures),
    )


def _histories(
    lead_ids: list[str | None],
    emails: list[str | None],
    client: Client,
    channel: str,
    assignments: pd.DataFrame | None,
    events: pd.DataFrame | None,
    now: pd.Timestamp,
) -> dict[str | None, LeadHistory]:
    """One LeadHistory per lead id, built from grouped (not per-lead filtered) frames."""
    wanted = {i for i in lead_ids if i is not None}
    a = prepare_assignments(assignments)
    a = a[a["lead_id"].isin(wanted)]
    status = a["assignment_status"]
    client_id = str(client.client_id)
    active_for_client = set(a.loc[(status == "active") & (a["client_id"] == client_id), "lead_id"])
    converted = set(a.loc[status == "converted", "lead_id"])

    ev = _lead_events(lead_ids, emails, events, now)
    latest = ev.groupby(["lead_id", "event_type"])["occurred_at"].max().to_dict()
    touches = ev[ev["event_type"] == "touch"]
    touch_count = touches.groupby("lead_id").size().to_dict()
    last_any = touches.groupby("lead_id")["occurred_at"].max().to_dict()
    same = touches[touches["channel"] == channel]
    last_channel = same.groupby("lead_id")["occurred_at"].max().to_dict()

    with_history = active_for_client | converted | set(ev["lead_id"])
    return {
        lead_id: LeadHistory(
            active_for_client=lead_id in active_for_client,
            converted=lead_id in converted,
            bounced_at=latest.get((lead_id, "bounce")),
            unsubscribed_at=latest.get((lead_id, "unsubscribe")),
            do_not_contact_at=latest.get((lead_id, "do_not_contact")),
            replied_at=latest.get((lead_id, "reply")),
            not_interested_at=latest.get((lead_id, "not_interested")),
            last_touch_any=last_any.get(lead_id),
            last_touch_channel=last_channel.get(lead_id),
            touch_count=int(touch_count.get(lead_id, 0)),
        )
        for lead_id in with_history
    }


def _id_text(value: object) -> str | None:
    """An identifier as text, None when missing (as ``id_strings`` does for a column)."""
    return None if _missing(value) else str(value)


def _lower_text(value: object) -> str | None:
    """Stripped lower-case text, None when missing or blank (as ``lower_strings`` does)."""
    if _missing(value):
        return None
    return str(value).strip().lower() or None


def _utc_time(value: object) -> pd.Timestamp | None:
    """A time in UTC, None when missing or unparseable (as ``utc_series`` does)."""
    if _missing(value):
        return None
    if isinstance(value, datetime):  # what the database gives: no parsing needed
        return to_utc(value)
    try:
        stamp = pd.to_datetime(value, errors="coerce", utc=True)
    except (TypeError, ValueError, OverflowError):
        return None
    return None if _missing(stamp) else stamp


def _missing(value: object) -> bool:
    """None, NaN, NaT or pd.NA (what ``Series.isna`` calls missing; list-likes never are)."""
    return value is None or (pd.api.types.is_scalar(value) and bool(pd.isna(value)))


def _history_from_rows(
    lead_id: str,
    email: str | None,
    client: Client,
    channel: str,
    assignments: Iterable[Mapping],
    events: Iterable[Mapping],
    now: pd.Timestamp,
) -> LeadHistory:
    """One lead's LeadHistory folded from plain rows; the same as :func:`_histories` gives."""
    client_id = str(client.client_id)
    active_for_client = converted = False
    for row in assignments:
        if _id_text(row.get("lead_id")) != lead_id:
            continue
        status = _lower_text(row.get("assignment_status"))
        if status == "active" and _id_text(row.get("client_id")) == client_id:
            active_for_client = True
        elif status == "converted":
            converted = True

    latest: dict[str | None, pd.Timestamp] = {}
    touch_count = 0
    last_any = last_channel = None
    for row in events:
        at = _utc_time(row.get("occurred_at"))
        if at is None or at > now:
            continue
        event_lead = _id_text(row.get("lead_id"))
        if event_lead is None:
            if email is None or _lower_text(row.get("email")) != email:
                continue
        elif event_lead != lead_id:
            continue
        kind = _lower_text(row.get("event_type"))
        if kind not in latest or at > latest[kind]:
            latest[kind] = at
        if kind == "touch":
            touch_count += 1
            last_any = at if last_any is None or at > last_any else last_any
            if _lower_text(row.get("channel")) == channel:
                last_channel = at if last_channel is None or at > last_channel else last_channel
    return LeadHistory(
        active_for_client=active_for_client,
        converted=converted,
        bounced_at=latest.get("bounce"),
        unsubscribed_at=latest.get("unsubscribe"),
        do_not_contact_at=latest.get("do_not_contact"),
        replied_at=latest.get("reply"),
        not_interested_at=latest.get("not_interested"),
        last_touch_any=last_any,
        last_touch_channel=last_channel,
        touch_count=touch_count,
    )


def _lead_events(
    lead_ids: list[str | None],
    emails: list[str | None],
    events: pd.DataFrame | None,
    now: pd.Timestamp,
) -> pd.DataFrame:
    """Events up to ``now`` of the given leads, by lead_id or (when it is missing) by email."""
    e = ensure_columns(events, EVENT_COLUMNS)
    ev = pd.DataFrame(
        {
            "lead_id": id_strings(e["lead_id"]),
            "email": lower_strings(e["email"]),
            "channel": lower_strings(e["channel"]),
            "event_type": lower_strings(e["event_type"]),
            "occurred_at": utc_series(e["occurred_at"]),
        },
        index=e.index,
    )
    ev = ev[ev["occurred_at"].notna() & (ev["occurred_at"] <= now)]
    wanted = {i for i in lead_ids if i is not None}
    by_id = ev[ev["lead_id"].isin(wanted)]
    email_only = ev[ev["lead_id"].isna() & ev["email"].notna()]
    keys = pd.DataFrame({"lead_id": lead_ids, "email": emails}, dtype=object).dropna()
    if email_only.empty or keys.empty:
        return by_id
    by_email = email_only.drop(columns=["lead_id"]).merge(keys.drop_duplicates(), on="email")
    return pd.concat([by_id, by_email[by_id.columns]], ignore_index=True)
