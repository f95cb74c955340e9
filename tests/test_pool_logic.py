"""Tests of the pure pool logic (cis.pool): ICP scoring, allocation, widening, validation.

No database: frames are built in memory and ``now`` is fixed.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from cis.clients import Client, Icp
from cis.pool import (
    RULE_NAMES,
    RULES,
    AllocationPlan,
    AllocationSettings,
    ValidationSettings,
    criteria_met,
    describe_shortfall,
    icp_score,
    plan_allocation,
    summarise,
    validate_batch,
    validate_lead,
    widening_hints,
)
from cis.pool.allocation import ASSIGNMENT_COLUMNS

NOW = pd.Timestamp("2025-06-01 12:00", tz="UTC")
OPS_ICP = Icp(
    titles=("operations", "logistics"),
    seniorities=("vp", "director"),
    departments=("operations",),
    industries=("logistics & supply chain",),
    countries=("US", "CA"),
    employee_min=50,
    employee_max=5000,
    keywords=("logistics",),
)


def lead_id(i: int) -> str:
    return str(uuid.UUID(int=i))


def make_lead(i: int, **overrides: object) -> dict:
    """A lead that fully matches OPS_ICP and passes every validation rule (once assigned)."""
    row = {
        "lead_id": lead_id(i),
        "email": f"person{i}@company{i}.com",
        "email_status": "verified",
        "linkedin_url": f"https://www.linkedin.com/in/person{i}",
        "phone": "+15550100",
        "first_name": "Pat",
        "last_name": f"Person{i}",
        "title": "VP Operations",
        "seniority": "vp",
        "department": "operations",
        "industry": "logistics & supply chain",
        "employee_count": 200,
        "country_code": "US",
        "company_name": f"Company {i}",
        "company_domain": f"company{i}.com",
        "organization_keywords": ["logistics", "freight"],
        "pool_status": "available",
    }
    row.update(overrides)
    return row


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(make_lead(0)) if not rows else None)


def make_client(slug: str = "northwind", **overrides: object) -> Client:
    values: dict = {
        "slug": slug,
        "name": slug.title(),
        "status": "active",
        "capacity": 100,
        "min_icp_score": 0.6,
        "icp": OPS_ICP,
        "excluded_companies": (),
        "required_fields": ("first_name", "company_name", "title"),
        "allowed_email_statuses": ("verified",),
    }
    values.update(overrides)
    return Client(**values)


def assignment(
    lead: str,
    client: Client,
    status: str = "active",
    released_days_ago: float | None = None,
    reason: str | None = None,
    assignment_id: str | None = None,
) -> dict:
    released = (
        NOW - pd.Timedelta(days=released_days_ago) if released_days_ago is not None else pd.NaT
    )
    return {
        "assignment_id": assignment_id
        or str(uuid.uuid5(uuid.NAMESPACE_OID, f"{lead}|{client.slug}|{status}|{released}")),
        "lead_id": lead,
        "client_id": str(client.client_id),
        "assignment_status": status,
        "assigned_at": NOW - pd.Timedelta(days=60),
        "released_at": released,
        "release_reason": reason,
        "converted_at": NOW - pd.Timedelta(days=5) if status == "converted" else pd.NaT,
    }


def assignments_frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(ASSIGNMENT_COLUMNS))


def event(
    lead: str | None,
    event_type: str,
    days_ago: float,
    channel: str = "email",
    client: Client | None = None,
    email: str | None = None,
) -> dict:
    return {
        "lead_id": lead,
        "client_id": str(client.client_id) if client else None,
        "channel": channel,
        "event_type": event_type,
        "occurred_at": NOW - pd.Timedelta(days=days_ago),
        "email": email,
    }


def events_frame(rows: list[dict]) -> pd.DataFrame:
    columns = ["lead_id", "client_id", "channel", "event_type", "occurred_at", "email"]
    return pd.DataFrame(rows, columns=columns)


def apply_plan(assignments: pd.DataFrame, plan: AllocationPlan, now: pd.Timestamp) -> pd.DataFrame:
    """What the I/O layer would write: releases closed, planned assignments added as active."""
    out = assignments.copy()
    for release in plan.release:
        row = out["assignment_id"] == release.assignment_id
        out.loc[row, "assignment_status"] = "released"
        out.loc[row, "released_at"] = now
        out.loc[row, "release_reason"] = release.reason
    new = [
        {
            "assignment_id": f"new-{i}",
            "lead_id": p.lead_id,
            "client_id": p.client_id,
            "assignment_status": "active",
            "assigned_at": now,
            "released_at": pd.NaT,
            "release_reason": None,
            "converted_at": pd.NaT,
        }
        for i, p in enumerate(plan.assign)
    ]
    return pd.concat([out, assignments_frame(new)], ignore_index=True)


# --- ICP scoring --------------------------------------------------------------------------


def test_full_match_scores_one_and_no_criteria_scores_one() -> None:
    leads = frame([make_lead(1), make_lead(2, seniority=None, title=None)])
    assert icp_score(leads, OPS_ICP).iloc[0] == 1.0
    assert icp_score(leads, Icp()).tolist() == [1.0, 1.0]


def test_score_is_weighted_share_of_specified_criteria() -> None:
    icp = Icp(seniorities=("vp",), titles=("cfo",))  # weights 0.30 + 0.20
    leads = frame(
        [
            make_lead(1, seniority="vp", title="Head of People"),  # 0.30 / 0.50
            make_lead(2, seniority="manager", title="CFO"),  # 0.20 / 0.50
            make_lead(3, seniority="vp", title="Deputy CFO"),
            make_lead(4, seniority="unknown", title="Engineer"),
        ]
    )
    assert icp_score(leads, icp).tolist() == [0.6, 0.4, 1.0, 0.0]


def test_all_seven_weights() -> None:
    # Meets only employee range (0.10) and countries (0.10) of all seven (total 1.10).
    lead = make_lead(
        1,
        seniority="intern",
        title="Recruiter",
        department="human_resources",
        industry="banking",
        organization_keywords=["payroll"],
    )
    assert icp_score(frame([lead]), OPS_ICP).iloc[0] == pytest.approx(0.2 / 1.1, abs=1e-6)


def test_missing_values_do_not_meet_criteria() -> None:
    lead = make_lead(
        1,
        seniority=None,
        title=None,
        department=None,
        industry=None,
        employee_count=None,
        country_code=None,
        organization_keywords=None,
    )
    met = criteria_met(frame([lead]), OPS_ICP)
    assert list(met.columns) == [
        "seniorities",
        "titles",
        "departments",
        "industries",
        "employee_range",
        "countries",
        "keywords",
    ]
    assert not met.iloc[0].any()
    assert icp_score(frame([lead]), OPS_ICP).iloc[0] == 0.0


def test_title_match_is_wordish_and_case_insensitive() -> None:
    icp = Icp(titles=("sales", "cfo", "supply chain"))
    titles = ["Head of SALES", "Salesforce Admin", "CFOs Office", "VP Supply Chain", "Presales"]
    leads = frame([make_lead(i, title=t) for i, t in enumerate(titles)])
    assert criteria_met(leads, icp)["titles"].tolist() == [True, False, True, True, False]


def test_keywords_employee_range_and_countries() -> None:
    icp = Icp(keywords=("logistics",), employee_min=50, employee_max=500, countries=("US",))
    leads = frame(
        [
            make_lead(1, organization_keywords=["Logistics Software"], employee_count=50),
            make_lead(2, organization_keywords=np.array(["saas"]), employee_count=500),
            make_lead(3, organization_keywords=None, employee_count=501, country_code="us"),
            make_lead(4, organization_keywords=[], employee_count=49, country_code="CA"),
        ]
    )
    met = criteria_met(leads, icp)
    assert met["keywords"].tolist() == [True, False, False, False]
    assert met["employee_range"].tolist() == [True, True, False, False]
    assert met["countries"].tolist() == [True, True, True, False]
    open_ended = criteria_met(leads, Icp(employee_min=500))["employee_range"]
    assert open_ended.tolist() == [False, True, True, False]


def test_criteria_met_only_lists_specified_criteria_and_empty_frame() -> None:
    assert list(criteria_met(frame([make_lead(1)]), Icp(departments=("sales",))).columns) == [
        "departments"
    ]
    empty = frame([])
    assert icp_score(empty, OPS_ICP).empty
    assert criteria_met(empty, OPS_ICP).empty


# --- allocation ---------------------------------------------------------------------------


def counts(plan: AllocationPlan) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in plan.assign:
        out[p.client_slug] = out.get(p.client_slug, 0) + 1
    return out


def test_capacity_is_respected_and_existing_actives_count() -> None:
    client = make_client(capacity=3)
    leads = frame([make_lead(i) for i in range(1, 11)])
    assert len(plan_allocation(leads, None, [client], NOW).assign) == 3
    held = assignments_frame([assignment(lead_id(1), client)])
    plan = plan_allocation(leads, held, [client], NOW)
    assert len(plan.assign) == 2
    assert lead_id(1) not in {p.lead_id for p in plan.assign}
    summary = plan.summary_for("northwind")
    assert summary is not None
    assert (summary.active_before, summary.assigned_now, summary.open_capacity_after) == (1, 2, 0)
    assert summary.eligible_available == 9


def test_exclusivity_no_lead_twice_and_held_leads_skipped() -> None:
    clients = [make_client(s, capacity=10) for s in ("alpha", "bravo", "charlie")]
    leads = frame([make_lead(i) for i in range(1, 21)])
    other = make_client("delta", status="paused")
    held = assignments_frame(
        [assignment(lead_id(1), other), assignment(lead_id(2), other, status="converted")]
    )
    plan = plan_allocation(leads, held, [*clients, other], NOW)
    ids = [p.lead_id for p in plan.assign]
    assert len(ids) == len(set(ids)) == 18
    assert lead_id(1) not in ids and lead_id(2) not in ids


def test_fairness_equal_capacity_split_evenly() -> None:
    clients = [make_client("alpha", capacity=10), make_client("bravo", capacity=10)]
    plan = plan_allocation(frame([make_lead(i) for i in range(1, 11)]), None, clients, NOW)
    assert counts(plan) == {"alpha": 5, "bravo": 5}


def test_fairness_follows_capacity_ratio() -> None:
    clients = [make_client("alpha", capacity=2), make_client("bravo", capacity=8)]
    plan = plan_allocation(frame([make_lead(i) for i in range(1, 11)]), None, clients, NOW)
    assert counts(plan) == {"alpha": 2, "bravo": 8}
    # With only 5 leads the draft keeps fill ratios level: alpha 1/2, bravo 4/8.
    plan = plan_allocation(frame([make_lead(i) for i in range(1, 6)]), None, clients, NOW)
    assert counts(plan) == {"alpha": 1, "bravo": 4}


def test_best_leads_first_with_lead_id_tiebreak() -> None:
    leads = frame(
        [
            make_lead(3, title="Office Manager"),  # misses titles: 0.9 / 1.1
            make_lead(2),
            make_lead(1),
        ]
    )
    plan = plan_allocation(leads, None, [make_client(capacity=2)], NOW)
    assert [p.lead_id for p in plan.assign] == [lead_id(1), lead_id(2)]
    assert plan.assign[0].icp_score == 1.0


def test_cooldown_after_release() -> None:
    client = make_client()
    leads = frame([make_lead(1), make_lead(2)])
    history = assignments_frame(
        [
            assignment(lead_id(1), client, "released", released_days_ago=10, reason="manual"),
            assignment(lead_id(2), client, "released", released_days_ago=40, reason="manual"),
        ]
    )
    plan = plan_allocation(leads, history, [client], NOW)
    assert [p.lead_id for p in plan.assign] == [lead_id(2)]
    short = plan_allocation(leads, history, [client], NOW, AllocationSettings(cooldown_days=5))
    assert {p.lead_id for p in short.assign} == {lead_id(1), lead_id(2)}


def test_cancelled_client_releases_active_and_keeps_converted() -> None:
    cancelled = make_client("harborline", status="cancelled", capacity=50)
    active = make_client("northwind", capacity=10)
    leads = frame([make_lead(i) for i in range(1, 5)])
    history = assignments_frame(
        [
            assignment(lead_id(1), cancelled, assignment_id="a1"),
            assignment(lead_id(2), cancelled, assignment_id="a2"),
            assignment(lead_id(3), cancelled, status="converted", assignment_id="a3"),
        ]
    )
    plan = plan_allocation(leads, history, [cancelled, active], NOW)
    assert [(r.assignment_id, r.reason) for r in plan.release] == [
        ("a1", "client_cancelled"),
        ("a2", "client_cancelled"),
    ]
    assert {r.client_id for r in plan.release} == {str(cancelled.client_id)}
    # Released leads cool down; the converted lead stays with its client; only lead 4 is free.
    assert [(p.lead_id, p.client_slug) for p in plan.assign] == [(lead_id(4), "northwind")]
    summary = plan.summary_for("harborline")
    assert summary is not None
    assert (summary.released_now, summary.assigned_now, summary.shortfall) == (2, 0, 0)


def test_paused_client_keeps_leads_and_gets_nothing() -> None:
    paused = make_client("paused_co", status="paused", capacity=10)
    leads = frame([make_lead(i) for i in range(1, 5)])
    history = assignments_frame([assignment(lead_id(1), paused)])
    plan = plan_allocation(leads, history, [paused], NOW)
    assert plan.is_empty
    summary = plan.summary_for("paused_co")
    assert summary is not None
    assert (summary.active_before, summary.open_capacity_after, summary.shortfall) == (1, 0, 0)
    assert summary.eligible_available == 3


def test_excluded_companies_never_assigned_to_that_client() -> None:
    picky = make_client("alpha", excluded_companies=("company1.com", "company 2"))
    other = make_client("bravo")
    leads = frame(
        [
            make_lead(1, company_domain="WWW.Company1.com"),
            make_lead(2),  # excluded by name "Company 2"
            make_lead(3),
        ]
    )
    plan = plan_allocation(leads, None, [picky], NOW)
    assert [p.lead_id for p in plan.assign] == [lead_id(3)]
    both = plan_allocation(leads, None, [picky, other], NOW)
    by_lead = {p.lead_id: p.client_slug for p in both.assign}
    assert by_lead[lead_id(1)] == "bravo" and by_lead[lead_id(2)] == "bravo"


def test_email_status_filter_verified_only_and_permissive() -> None:
    statuses = ["verified", "extrapolated", "guessed", "unavailable", "invalid", None]
    leads = frame([make_lead(i + 1, email_status=s) for i, s in enumerate(statuses)])
    strict = make_client()
    lenient = make_client(allowed_email_statuses=("verified", "extrapolated"))

    def assigned(client: Client, settings: AllocationSettings | None = None) -> set[str]:
        return {p.lead_id for p in plan_allocation(leads, None, [client], NOW, settings).assign}

    assert assigned(strict) == {lead_id(1)}
    assert assigned(lenient) == {lead_id(1), lead_id(2)}
    permissive = AllocationSettings(verified_only=False)
    assert assigned(strict, permissive) == {lead_id(1), lead_id(2), lead_id(3)}


def test_email_required_pool_status_and_min_score() -> None:
    leads = frame(
        [
            make_lead(1, email=None),  # LinkedIn-only
            make_lead(2, pool_status="bounced"),
            make_lead(3, pool_status="assigned"),
            make_lead(4, seniority="intern", title="Intern", department="finance"),  # 0.45
            make_lead(5),
        ]
    )
    plan = plan_allocation(leads, None, [make_client()], NOW)
    assert [p.lead_id for p in plan.assign] == [lead_id(5)]


def test_idempotent_and_deterministic() -> None:
    alpha = make_client("alpha", capacity=6)
    bravo = make_client("bravo", capacity=4, icp=Icp(seniorities=("vp", "director")))
    paused = make_client("charlie", status="paused", capacity=5)
    cancelled = make_client("delta", status="cancelled", capacity=5)
    leads = frame([make_lead(i, seniority="director" if i % 3 else "vp") for i in range(1, 25)])
    history = assignments_frame(
        [
            assignment(lead_id(1), alpha),
            assignment(lead_id(2), paused),
            assignment(lead_id(3), cancelled, assignment_id="c3"),
            assignment(lead_id(4), cancelled, status="converted", assignment_id="c4"),
            assignment(lead_id(5), alpha, "released", released_days_ago=3, reason="manual"),
        ]
    )
    clients = [alpha, bravo, paused, cancelled]
    first = plan_allocation(leads, history, clients, NOW)
    assert first == plan_allocation(leads.iloc[::-1], history, clients[::-1], NOW)
    assert counts(first) == {"alpha": 5, "bravo": 4}
    assert [r.assignment_id for r in first.release] == ["c3"]

    second = plan_allocation(leads, apply_plan(history, first, NOW), clients, NOW)
    assert second.is_empty
    assert second.summary_for("alpha").active_before == 6  # type: ignore[union-attr]


def test_degenerate_inputs_give_empty_plans() -> None:
    leads = frame([make_lead(1)])
    empty_history = pd.DataFrame()
    assert plan_allocation(frame([]), None, [make_client()], NOW).is_empty
    assert plan_allocation(pd.DataFrame(), empty_history, [make_client()], NOW).is_empty
    assert plan_allocation(leads, empty_history, [], NOW) == AllocationPlan()
    zero = plan_allocation(leads, None, [make_client(capacity=0)], NOW)
    assert zero.is_empty and zero.summaries[0].shortfall == 0


# --- widening -----------------------------------------------------------------------------

# ICP: seniority vp (0.30), department operations (0.15), country US (0.10); total 0.55.
WIDEN_CLIENT = make_client(
    capacity=10,
    min_icp_score=0.9,
    icp=Icp(seniorities=("vp",), departments=("operations",), countries=("US",)),
)


def widen_leads() -> pd.DataFrame:
    rows = []
    specs = [
        (2, "vp", "operations", "US"),  # 1.0: eligible
        (3, "director", "operations", "US"),  # 0.25/0.55 = 0.45
        (4, "vp", "finance", "US"),  # 0.40/0.55 = 0.73
        (1, "vp", "operations", "DE"),  # 0.45/0.55 = 0.82
        (1, "director", "finance", "DE"),  # 0
    ]
    i = 1
    for count, seniority, department, country in specs:
        for _ in range(count):
            rows.append(
                make_lead(i, seniority=seniority, department=department, country_code=country)
            )
            i += 1
    rows.append(make_lead(99, pool_status="assigned"))  # unavailable: never counted
    return frame(rows)


def test_widening_hints_numbers() -> None:
    leads = widen_leads()
    plan = plan_allocation(leads, None, [WIDEN_CLIENT], NOW)
    summary = plan.summary_for("northwind")
    assert summary is not None
    assert (summary.eligible_available, summary.shortfall) == (2, 8)
    hints = widening_hints(leads, None, WIDEN_CLIENT, NOW, None, summary.shortfall)
    got = [(h.criterion, h.min_icp_score, h.extra_leads) for h in hints]
    assert got == [
        ("min_icp_score", 0.4, 8),
        ("min_icp_score", 0.7, 5),
        ("departments", None, 4),
        ("seniorities", None, 3),
        ("countries", None, 1),
        ("min_icp_score", 0.8, 1),
    ]
    assert describe_shortfall(summary, hints) == (
        "ICP for northwind has 2 eligible leads for 10 open slots (short by 8); "
        "lowering min_icp_score from 0.9 to 0.4 adds 8 leads, "
        "lowering min_icp_score from 0.9 to 0.7 adds 5 leads, "
        "dropping the department filter adds 4 leads."
    )


def test_widening_reports_leads_lost_by_renormalising() -> None:
    client = make_client(min_icp_score=0.6, icp=Icp(seniorities=("vp",), titles=("operations",)))
    leads = frame(
        [
            make_lead(1, seniority="vp", title="CFO"),  # 0.6 -> 0.0 without seniority
            make_lead(2, seniority="director", title="VP Operations"),  # 0.4 -> 1.0
        ]
    )
    hints = {h.criterion: h for h in widening_hints(leads, None, client, NOW, None, 5)}
    assert (hints["seniorities"].gained, hints["seniorities"].lost) == (1, 1)
    assert hints["seniorities"].extra_leads == 0
    assert "1 lost" in hints["seniorities"].description


def test_widening_nothing_when_not_short_or_empty() -> None:
    assert widening_hints(widen_leads(), None, WIDEN_CLIENT, NOW, None, 0) == []
    assert widening_hints(frame([]), None, WIDEN_CLIENT, NOW, None, 5) == []
    plan = plan_allocation(
        frame([make_lead(i) for i in range(1, 4)]), None, [make_client(capacity=2)], NOW
    )
    assert describe_shortfall(plan.summaries[0], []) == (
        "ICP for northwind has 3 eligible leads for 2 open slots; no shortfall."
    )


# --- validation ---------------------------------------------------------------------------

CLIENT = make_client(excluded_companies=("cobaltridge.com",))
OTHER = make_client("ledgerly")
LEAD = lead_id(1)


def run(
    lead: dict | None = None,
    channel: str = "email",
    assignments: list[dict] | None = None,
    events: list[dict] | None = None,
    client: Client = CLIENT,
    settings: ValidationSettings | None = None,
) -> tuple[str, ...]:
    """Failed rules for lead 1 (actively assigned to CLIENT unless ``assignments`` is given)."""
    history = [assignment(LEAD, CLIENT)] if assignments is None else assignments
    result = validate_lead(
        lead or make_lead(1),
        client,
        channel,
        assignments_frame(history),
        events_frame(events or []),
        NOW,
        settings,
    )
    assert result.allowed == (not result.failures)
    return result.failed_rules


def test_clean_lead_is_allowed_on_every_channel() -> None:
    for channel in ("email", "linkedin", "sms", "voice"):
        assert run(channel=channel) == ()


# Each case: rule, the arguments that make it fire, the close arguments that do not.
RULE_CASES = [
    (
        "bounced",
        {"events": [event(LEAD, "bounce", 400)]},
        {"events": [event(lead_id(2), "bounce", 1)]},
    ),
    ("bounced", {"lead": make_lead(1, pool_status="bounced")}, {"lead": make_lead(1)}),
    (
        "unsubscribed",
        {"events": [event(LEAD, "unsubscribe", 30, channel="sms", client=OTHER)]},
        {"events": [event(LEAD, "unsubscribe", -1)]},  # in the future: ignored
    ),
    ("unsubscribed", {"lead": make_lead(1, pool_status="unsubscribed")}, {}),
    (
        "do_not_contact",
        {"events": [event(LEAD, "do_not_contact", 100, channel="voice")]},
        {"events": [event(lead_id(2), "do_not_contact", 100)]},
    ),
    ("do_not_contact", {"lead": make_lead(1, pool_status="do_not_contact")}, {}),
    (
        "email_not_verified",
        {"lead": make_lead(1, email_status="extrapolated")},
        {
            "lead": make_lead(1, email_status="extrapolated"),
            "client": replace(CLIENT, allowed_email_statuses=("verified", "extrapolated")),
        },
    ),
    (
        "email_not_verified",
        {"lead": make_lead(1, email=None)},
        {"lead": make_lead(1, email=None), "channel": "linkedin"},
    ),
    (
        "missing_channel_address",
        {"lead": make_lead(1, linkedin_url=None), "channel": "linkedin"},
        {"lead": make_lead(1, linkedin_url=None), "channel": "email"},
    ),
    (
        "missing_channel_address",
        {"lead": make_lead(1, phone=" "), "channel": "sms"},
        {"lead": make_lead(1, linkedin_url=None), "channel": "voice"},
    ),
    (
        "not_assigned_to_client",
        {"assignments": [assignment(LEAD, OTHER)]},
        {"assignments": [assignment(LEAD, OTHER, "released", 40), assignment(LEAD, CLIENT)]},
    ),
    (
        "not_assigned_to_client",
        {"assignments": [assignment(LEAD, CLIENT, "released", 1, "manual")]},
        {"assignments": [assignment(LEAD, CLIENT)]},
    ),
    (
        "already_replied",
        {"events": [event(LEAD, "reply", 200, channel="linkedin", client=OTHER)]},
        {"events": [event(LEAD, "touch", 200, channel="linkedin", client=OTHER)]},
    ),
    (
        "already_converted",
        {"assignments": [assignment(LEAD, CLIENT, "converted")]},
        {"assignments": [assignment(LEAD, OTHER, "released", 90), assignment(LEAD, CLIENT)]},
    ),
    ("already_converted", {"lead": make_lead(1, pool_status="converted")}, {}),
    (
        "recent_touch_any_channel",
        {"events": [event(LEAD, "touch", 2, channel="linkedin")]},
        {"events": [event(LEAD, "touch", 4, channel="linkedin")]},
    ),
    (
        "recent_touch_same_channel",
        {"events": [event(LEAD, "touch", 6)]},
        {"events": [event(LEAD, "touch", 8)]},
    ),
    (
        "max_touches_reached",
        {"events": [event(LEAD, "touch", 30 + d) for d in range(10)]},
        {"events": [event(LEAD, "touch", 30 + d) for d in range(9)]},
    ),
    (
        "not_interested_cooling",
        {"events": [event(LEAD, "not_interested", 300, client=OTHER)]},
        {"events": [event(LEAD, "not_interested", 400)]},
    ),
    (
        "company_excluded",
        {"lead": make_lead(1, company_domain="https://www.CobaltRidge.com/")},
        {"lead": make_lead(1, company_domain="notcobaltridge.com")},
    ),
    (
        "company_excluded",
        {"lead": make_lead(1, company_name="cobaltridge.com", company_domain=None)},
        {"lead": make_lead(1, company_domain=None)},
    ),
    (
        "missing_personalization",
        {"lead": make_lead(1, first_name="  ")},
        {"lead": make_lead(1, last_name=None)},  # not a required field
    ),
]


@pytest.mark.parametrize(("rule", "fires", "close"), RULE_CASES)
def test_rule_fires_alone_and_close_case_passes(rule: str, fires: dict, close: dict) -> None:
    assert run(**fires) == (rule,)
    assert run(**close) == ()


def test_every_rule_has_a_case_and_registry_matches_names() -> None:
    assert tuple(r.name for r in RULES) == RULE_NAMES
    assert {case[0] for case in RULE_CASES} == set(RULE_NAMES)


def test_failure_details() -> None:
    result = validate_lead(
        make_lead(1, first_name=None, title=""),
        CLIENT,
        "email",
        assignments_frame([assignment(LEAD, CLIENT)]),
        events_frame([event(LEAD, "touch", 2)]),
        NOW,
    )
    details = {f.rule: f.detail for f in result.failures}
    assert details["missing_personalization"] == "missing first_name, title"
    assert "2.0 days ago" in details["recent_touch_any_channel"]


def test_lead_failing_three_rules_lists_all_three() -> None:
    failed = run(
        lead=make_lead(1, company_name=None),
        events=[event(LEAD, "bounce", 20), event(LEAD, "touch", 1, channel="sms")],
    )
    assert failed == ("bounced", "recent_touch_any_channel", "missing_personalization")


def test_settings_change_thresholds_and_enabled_rules() -> None:
    touches = [event(LEAD, "touch", 2, channel="linkedin"), event(LEAD, "touch", 20)]
    assert run(events=touches) == ("recent_touch_any_channel",)
    assert run(events=touches, settings=ValidationSettings(any_channel_gap_days=1)) == ()
    strict = ValidationSettings(any_channel_gap_days=1, same_channel_gap_days=30, max_touches=2)
    assert run(events=touches, settings=strict) == (
        "recent_touch_same_channel",
        "max_touches_reached",
    )
    cooling = [event(LEAD, "not_interested", 100)]
    assert run(events=cooling, settings=ValidationSettings(not_interested_cooling_days=90)) == ()
    only = ValidationSettings(enabled_rules=frozenset({"bounced"}))
    assert run(lead=make_lead(1, first_name=None), events=touches, settings=only) == ()
    with pytest.raises(ValueError, match="unknown validation rules"):
        ValidationSettings(enabled_rules=frozenset({"nope"}))
    with pytest.raises(ValueError, match="unknown channel"):
        run(channel="fax")


def test_email_only_events_match_by_email() -> None:
    events = [event(None, "unsubscribe", 5, email="PERSON1@company1.com")]
    assert run(events=events) == ("unsubscribed",)


def test_batch_matches_single_and_summary() -> None:
    leads = frame(
        [
            make_lead(1),
            make_lead(2, pool_status="bounced"),
            make_lead(3, email_status="guessed", first_name=None),
            make_lead(4),
        ]
    )
    history = assignments_frame([assignment(lead_id(i), CLIENT) for i in (1, 2, 3)])
    events = events_frame([event(lead_id(1), "touch", 10), event(lead_id(4), "reply", 3)])
    batch = validate_batch(leads, CLIENT, "email", history, events, NOW)
    singles = [
        validate_lead(row, CLIENT, "email", history, events, NOW) for _, row in leads.iterrows()
    ]
    assert batch == singles
    assert [r.allowed for r in batch] == [True, False, False, False]
    summary = summarise(batch)
    assert (summary.checked, summary.allowed, summary.blocked) == (4, 1, 3)
    assert summary.block_rate == 0.75
    assert summary.failures_by_rule == {
        "bounced": 1,
        "email_not_verified": 1,
        "not_assigned_to_client": 1,
        "already_replied": 1,
        "missing_personalization": 1,
    }
    assert validate_batch(frame([]), CLIENT, "email", None, None, NOW) == []
    empty = summarise([])
    assert (empty.checked, empty.block_rate, empty.failures_by_rule) == (0, 0.0, {})


# --- scale sanity -------------------------------------------------------------------------


def test_plan_and_validate_at_scale() -> None:
    rng = np.random.default_rng(7)
    n = 100_000
    leads = pd.DataFrame(
        {
            "lead_id": [lead_id(int(i)) for i in rng.permutation(n) + 1],
            "email": [f"p{i}@example.com" for i in range(n)],
            "email_status": rng.choice(["verified", "extrapolated", "guessed"], n),
            "title": rng.choice(["VP Operations", "CFO", "Head of Sales", "Recruiter"], n),
            "seniority": rng.choice(["vp", "director", "manager", "c_suite", "entry"], n),
            "department": rng.choice(["operations", "finance", "sales", "human_resources"], n),
            "industry": rng.choice(["logistics & supply chain", "computer software"], n),
            "employee_count": rng.integers(1, 10_000, n),
            "country_code": rng.choice(["US", "CA", "GB", "DE"], n),
            "company_name": "Co",
            "company_domain": rng.choice(["a.com", "b.com", "c.com"], n),
            "organization_keywords": [["logistics", "saas"]] * n,
            "first_name": "Pat",
            "pool_status": rng.choice(["available", "assigned", "bounced"], n, p=[0.8, 0.1, 0.1]),
        }
    )
    icps = [
        OPS_ICP,
        Icp(titles=("cfo",), seniorities=("c_suite", "vp"), departments=("finance",)),
        Icp(titles=("sales",), departments=("sales",), industries=("computer software",)),
        Icp(seniorities=("manager", "director"), departments=("human_resources",)),
    ]
    clients = [
        make_client(f"client_{i}", capacity=5_000 * (i + 1), icp=icp, min_icp_score=0.5)
        for i, icp in enumerate(icps)
    ]
    started = time.perf_counter()
    plan = plan_allocation(leads, None, clients, NOW)
    elapsed = time.perf_counter() - started
    print(f"plan_allocation 100k leads x 4 clients: {elapsed:.2f}s, {len(plan.assign)} assigned")
    ids = [p.lead_id for p in plan.assign]
    assert len(ids) == len(set(ids)) > 0
    for summary, client in zip(plan.summaries, clients, strict=True):
        assert summary.assigned_now <= client.capacity

    assigned = apply_plan(assignments_frame([]), plan, NOW)
    sample = leads[leads["lead_id"].isin(ids[:10_000])]
    events = events_frame(
        [
            event(lid, "touch", float(d))
            for lid, d in zip(ids[:5_000], rng.integers(0, 30, 5_000), strict=True)
        ]
    )
    started = time.perf_counter()
    results = validate_batch(sample, clients[0], "email", assigned, events, NOW)
    print(f"validate_batch {len(results)} leads: {time.perf_counter() - started:.2f}s")
    assert len(results) == len(sample)
