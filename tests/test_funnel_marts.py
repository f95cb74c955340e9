"""The funnel marts end to end: the demo's CRM outcomes (HubSpot for the clients that claim a
pipeline, the standalone CSV files for the other) and the contracts' HubSpot records, loaded by
`ingest landing` and built with dbt on a real PostgreSQL, compared with what the generator
planted; and the bad CRM input, quarantined with its reason while the rest loads."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from cis.db import transformer_target
from cis.generate import generate_landing
from cis.jobs.analyze_replies import analyze_replies
from cis.jobs.ingest import ingest_landing
from cis.jobs.quarantine import quarantined
from cis.transform import run_dbt
from tests.event_builds import MODELS_ONLY, client_database
from tests.pg import query

CONTRACTS = Path(__file__).parent / "fixtures" / "contracts"
FUNNEL = [
    "path:dbt_project/models/staging/crm",
    "path:dbt_project/models/intermediate/funnel",
    "path:dbt_project/models/marts/funnel",
    "stg_cis__client_crm_claims",
]
CONTRACT_IDS = ("hubspot:582019", "hubspot:315589")  # the contracts' meeting and deal ids


def _contract(name: str) -> list[dict]:
    return [json.loads(line) for line in (CONTRACTS / name).read_text().splitlines() if line]


def _land(root: Path, kind: str, records: list[dict]) -> None:
    (root / kind).mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r) + "\n" for r in records)
    (root / kind / "contract.jsonl").write_text(text)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("funnel")
    target = client_database("funnel_marts")
    landing = work / "landing"
    summary = generate_landing(landing, 1200, seed=5, events=True).events
    assert summary is not None
    # The contracts' records as HubSpot sends them, with a stage history listed oldest first
    # (HubSpot lists it newest first) and a deal in a pipeline nobody loaded.
    deals = _contract("hubspot__deal.jsonl")
    deals[0]["propertiesWithHistory"]["dealstage"].reverse()
    stray = json.loads(json.dumps(deals[1]))
    stray["id"] = "31558909999"
    stray["properties"]["pipeline"] = "no_such_pipeline"
    _land(landing, "hubspot/deals", [*deals, stray])
    _land(landing, "hubspot/meetings", _contract("hubspot__meeting.jsonl"))
    _land(landing, "hubspot/contacts", _contract("hubspot__contact.jsonl"))
    # A deal of the files naming neither a client nor a pipeline: HubSpot's pipeline "default"
    # (claimed by northwind) must not claim it.
    (landing / "crm" / "deals-orphan.csv").write_text(
        "deal_id,stage,created_at,status\norphan,Demo,2025-03-01,open\n"
    )
    ingest_landing(target, landing, pipelines_dir=work / "dlt")
    run_dbt(MODELS_ONLY, transformer_target(target), work_dir=work / "dbt")
    analyze_replies(target)  # positive replies are the analyzer's reading
    run_dbt(
        [*MODELS_ONLY, "--select", "stg_cis__reply_analyses+"],
        transformer_target(target),
        work_dir=work / "dbt",
    )
    run_dbt(  # the funnel models' data tests, on this data
        ["test", "--quiet", "--select", *FUNNEL], transformer_target(target), work_dir=work / "dbt"
    )
    return {"target": target, "crm": summary.crm}


def _generated(column: str) -> str:
    return f"left({column}, 14) not in ('{CONTRACT_IDS[0]}', '{CONTRACT_IDS[1]}')"


def test_every_crm_record_is_a_mart_row_or_a_rejection_with_its_reason(built: dict) -> None:
    target, crm = built["target"], built["crm"]
    meetings = query(target, "select count(*) from funnel.fct_meetings")[0][0]
    deals = query(target, "select count(*) from funnel.fct_deals")[0][0]
    left_out = dict(
        query(
            target,
            "select record_kind, count(*) from intermediate.int_crm_rejections group by 1",
        )
    )
    # Generated, the one bad HubSpot meeting, the contracts' six; the CSV row with a bad date
    # never got past the loader.
    assert meetings + left_out["meeting"] == sum(crm.meetings.values()) + 1 + 6
    assert left_out["meeting"] == 1
    # Generated, the one in a deleted stage, the contracts' two, the stray and the orphan.
    assert deals + left_out["deal"] == sum(crm.deals.values()) + 1 + 2 + 1 + 1
    assert left_out["deal"] == 2
    reasons = {r.reason for r in quarantined(target)}
    assert "meeting has no contact: nobody to tie it to" in reasons
    assert "deal stage 'stage_that_was_deleted' is not a stage of pipeline 'default'" in reasons
    assert (
        "deal pipeline 'no_such_pipeline' is not among the loaded pipelines (hubspot/pipelines)"
        in reasons
    )
    loader = {r.reason.split(" (")[0] for r in quarantined(target) if r.schema == "raw_crm"}
    assert loader >= {
        "scheduled_for is not a time",
        "amount is not a number",
        "missing column created_at",
    }


def test_outcomes_and_statuses_reach_the_marts_as_planted(built: dict) -> None:
    target, crm = built["target"], built["crm"]
    outcomes = dict(
        query(
            target,
            "select meeting_outcome, count(*) from funnel.fct_meetings "
            f"where {_generated('meeting_id')} group by 1",
        )
    )
    # HubSpot's spellings ("NO SHOW", "Cancelled") and the files' ("no show") read as one.
    assert outcomes == {k.lower(): v for k, v in crm.meetings.items()}
    statuses = dict(
        query(
            target,
            f"select deal_status, count(*) from funnel.fct_deals where {_generated('deal_id')} "
            "and deal_id <> 'csv:orphan' group by 1",
        )
    )
    assert statuses == crm.deals
    flags = query(
        target,
        "select count(*) filter (where is_past_still_scheduled), "
        "count(*) filter (where is_past_still_scheduled and (is_held or showed_up is not null)), "
        "count(*) filter (where meeting_outcome = 'no_show' and showed_up), "
        "count(*) filter (where meeting_outcome = 'completed' and not showed_up) "
        f"from funnel.fct_meetings where {_generated('meeting_id')}",
    )[0]
    assert flags == (crm.meetings.get("SCHEDULED", 0), 0, 0, 0)
    lost = query(
        target,
        "select count(*) from funnel.fct_deals where is_lost and "
        "(lost_reason is null or lost_reason = 'other')",
    )[0][0]
    assert lost == 0  # every planted reason is read into the fixed set


def test_contacts_match_their_leads_by_the_planted_method(built: dict) -> None:
    target, crm = built["target"], built["crm"]
    methods = dict(
        query(
            target,
            "select match_method, count(*) from intermediate.int_crm_contact_matches "
            "where crm_contact_id is null or left(crm_contact_id, 6) <> '928475' group by 1",
        )
    )
    assert methods == crm.contacts
    # The contracts' people are not in this pool: kept, counted, not matched to anyone.
    assert query(
        target,
        "select count(*), count(lead_id) from intermediate.int_crm_contact_matches "
        "where left(crm_contact_id, 6) = '928475'",
    ) == [(3, 0)]
    wrong = query(
        target,
        "select count(*) from intermediate.int_crm_contact_matches as m "
        "join pool.dim_leads as l using (lead_id) where case m.match_method "
        "when 'email' then lower(l.email) <> lower(m.email) and not exists (select 1 from "
        "staging.stg_apollo__people p join pool.dim_lead_aliases a using (apollo_person_id) "
        "where a.lead_id = l.lead_id and p.email = lower(m.email)) "
        "when 'name_and_domain' then lower(l.last_name) <> lower(m.last_name) "
        "or l.company_domain <> m.company_domain else false end",
    )[0][0]
    assert wrong == 0


def test_meetings_know_the_reply_and_touches_that_led_to_them(built: dict) -> None:
    target = built["target"]
    rows = query(
        target,
        "select count(*), count(m.positive_reply_id), "
        "count(*) filter (where r.replied_at > coalesce(m.booked_at, m.scheduled_for) "
        "or r.lead_id <> m.lead_id), "
        # A lead matched by a former email has its touches under that address, which the
        # engagement marts do not yet tie to the lead (int_lead_contact_points: current emails).
        "count(*) filter (where m.touches_before_booking = 0 and m.match_confidence <> 0.95), "
        "count(*) filter (where m.booking_lag_hours <= 0) "
        "from funnel.fct_meetings as m left join threads.fct_replies as r "
        "on r.reply_id = m.positive_reply_id "
        f"where m.lead_id is not null and {_generated('m.meeting_id')}",
    )[0]
    matched, with_reply, wrong_reply, untouched, lag_not_positive = rows
    assert matched > 20 and with_reply > matched * 0.7
    assert (wrong_reply, untouched, lag_not_positive) == (0, 0, 0)
    # Every booking followed a reply of the lead; where none is linked, the analyzer read none of
    # the lead's replies before it as positive (its intent errors, docs/replies.md), and none is
    # missed.
    assert query(
        target,
        "select count(*) filter (where not exists (select 1 from threads.fct_replies as r "
        "where r.lead_id = m.lead_id and r.replied_at <= coalesce(m.booked_at, m.scheduled_for))), "
        "count(*) filter (where exists (select 1 from threads.fct_replies as r "
        "where r.lead_id = m.lead_id and r.is_positive and r.client_id = m.client_id "
        "and r.replied_at <= coalesce(m.booked_at, m.scheduled_for))) "
        "from funnel.fct_meetings as m where m.lead_id is not null and m.positive_reply_id is null "
        f"and m.match_confidence <> 0.95 and {_generated('m.meeting_id')}",
    ) == [(0, 0)]
    # A meeting whose deal is in fct_deals says so.
    assert query(
        target,
        "select count(*) from funnel.fct_meetings as m join funnel.fct_deals as d "
        "on d.deal_id = m.deal_id where not m.has_deal_followed",
    ) == [(0,)]


def test_stage_history_follows_the_crms_own_times(built: dict) -> None:
    target = built["target"]
    broken = query(
        target,
        "select count(*) from (select deal_id, stage_number, entered_at, exited_at, "
        "days_in_stage, is_current, "
        "lead(entered_at) over w as next_entered, row_number() over w as n, "
        "count(*) over (partition by deal_id) as entries "
        "from funnel.fct_deal_stage_history window w as (partition by deal_id "
        "order by entered_at, stage_number)) as h "
        "where stage_number <> n or exited_at is distinct from next_entered "
        "or is_current <> (n = entries) "
        "or (exited_at is not null and days_in_stage <> "
        "round((extract(epoch from exited_at - entered_at) / 86400)::numeric, 2))",
    )[0][0]
    assert broken == 0
    # The contract deal, its history listed oldest first: still in HubSpot's time order.
    assert [
        r[0]
        for r in query(
            target,
            "select stage_id from funnel.fct_deal_stage_history "
            "where deal_id = 'hubspot:31558902741' order by stage_number",
        )
    ] == [
        "appointmentscheduled",
        "qualifiedtobuy",
        "presentationscheduled",
        "contractsent",
        "closedwon",
    ]
    # A closed deal's last entry is its won or lost stage, and it has no days in it.
    assert query(
        target,
        "select count(*) from funnel.fct_deals as d join funnel.fct_deal_stage_history as h "
        "on h.deal_id = d.deal_id and h.is_current where not d.is_open and "
        "(h.days_in_stage is not null or (d.source_system = 'hubspot' and h.stage_id <> d.stage_id))",
    ) == [(0,)]
    # The CSV file lists its stage changes newest first: read in time order all the same.
    assert (
        query(
            target,
            "select count(*) from funnel.fct_deal_stage_history where source_system = 'csv'",
        )[0][0]
        > 0
    )


def test_each_record_reaches_its_client_and_a_client_reads_only_its_own(built: dict) -> None:
    target = built["target"]
    by = Counter(
        dict(
            query(
                target,
                "select source_system || ':' || coalesce(client_attributed_by, 'none'), "
                "count(*) from funnel.fct_meetings group by 1",
            )
        )
    )
    assert by["csv:file"] > 0 and by["hubspot:pipeline"] > 0
    assert set(by) <= {"csv:file", "hubspot:pipeline", "hubspot:touch", "hubspot:none"}
    # The pipeline a client claims decides (northwind: default, ledgerly: 785412963).
    assert query(
        target,
        "select count(*) from funnel.fct_deals as d join cis.clients as c using (client_id) "
        "where d.source_system = 'hubspot' and d.pipeline_id <> "
        "case c.client_slug when 'northwind' then 'default' else '785412963' end",
    ) == [(0,)]
    assert query(
        target,
        "select client_id, client_attributed_by from funnel.fct_deals where deal_id = 'csv:orphan'",
    ) == [(None, None)]
    seen = {}
    for client_id, role in query(target, "select client_id::text, db_role from cis.clients"):
        seen[role] = query(
            target,
            f"set role {role}; select (select count(*) from funnel.fct_meetings), "
            "(select count(*) from funnel.fct_meetings where client_id::text <> %s), "
            "(select count(*) from funnel.fct_deals where client_id::text <> %s), "
            "(select count(*) from funnel.fct_deal_stage_history where client_id::text <> %s)",
            (client_id, client_id, client_id),
        )[0]
    assert all(others == [0, 0, 0] for _mine, *others in seen.values()), seen
    assert sum(mine for mine, *_ in seen.values()) > 0


def test_each_attribution_model_shares_out_all_of_a_won_deals_value(built: dict) -> None:
    target = built["target"]
    won = query(target, "select count(*) from funnel.fct_deals where is_won")[0][0]
    sums = query(
        target,
        "select a.attribution_model, count(distinct a.deal_id), "
        "count(*) filter (where s.credit <> 1 and abs(s.credit - 1) > 0.00001), "
        "count(*) filter (where abs(s.amount - d.amount) > 0.01) "
        "from (select deal_id, attribution_model, sum(credit) as credit, "
        "sum(attributed_amount) as amount from funnel.fct_revenue_attribution group by 1, 2) as s "
        "join funnel.fct_deals as d using (deal_id) "
        "join funnel.fct_revenue_attribution as a using (deal_id, attribution_model) "
        "group by 1 order by 1",
    )
    assert won > 3
    assert [(model, deals, 0, 0) for model, deals, *_ in sums] == sums
    assert {model: deals for model, deals, *_ in sums} == dict.fromkeys(
        ["first_touch", "last_touch", "linear", "time_decay"], won
    )
    # First and last touch credit the ends; linear shares equally; time decay favours the later
    # touch, and every touch came before the deal opened.
    shapes = query(
        target,
        "select count(*) filter (where a.attribution_model = 'first_touch' and a.touch_sent_at <> "
        "(select min(t.touch_sent_at) from funnel.fct_revenue_attribution as t "
        "where t.deal_id = a.deal_id and t.attribution_model = 'linear')), "
        "count(*) filter (where a.attribution_model = 'last_touch' and a.touch_sent_at <> "
        "(select max(t.touch_sent_at) from funnel.fct_revenue_attribution as t "
        "where t.deal_id = a.deal_id and t.attribution_model = 'linear')), "
        "count(*) filter (where a.touch_sent_at > d.created_at) "
        "from funnel.fct_revenue_attribution as a join funnel.fct_deals as d using (deal_id)",
    )[0]
    assert shapes == (0, 0, 0)
    decay = query(
        target,
        "select count(*) from (select credit, lag(credit) over (partition by deal_id "
        "order by touch_sent_at) as before, touch_sent_at, lag(touch_sent_at) over "
        "(partition by deal_id order by touch_sent_at) as before_at "
        "from funnel.fct_revenue_attribution where attribution_model = 'time_decay') as t "
        "where before is not null and touch_sent_at > before_at and credit < before",
    )[0][0]
    assert decay == 0


def test_deal_figures_add_up_per_currency_and_never_across(built: dict) -> None:
    target = built["target"]
    mismatches = query(
        target,
        "with d as (select client_id, coalesce(currency, '(none)') as currency, count(*) as n, "
        "count(*) filter (where is_won) as won, coalesce(sum(amount) filter (where is_won), 0) "
        "as won_value, count(*) filter (where is_open) as open from funnel.fct_deals "
        "where client_id is not null group by 1, 2) "
        "select count(*) from d full join funnel.fct_deal_values as v using (client_id, currency) "
        "where v.deals is distinct from d.n or v.deals_won is distinct from d.won "
        "or v.won_value is distinct from d.won_value or v.deals_open is distinct from d.open",
    )[0][0]
    assert mismatches == 0
    lost, lost_rows, open_deals, open_rows = query(
        target,
        "select (select count(*) from funnel.fct_deals where is_lost and client_id is not null), "
        "(select sum(deals) from funnel.fct_lost_deals), "
        "(select count(*) from funnel.fct_deals where is_open and client_id is not null), "
        "(select sum(open_deals) from funnel.fct_pipeline_stage_values)",
    )[0]
    assert lost > 0 and open_deals > 0
    assert (lost_rows, open_rows) == (lost, open_deals)
    # A lost deal was lost from a stage before its closed-lost one, never from it.
    assert query(
        target,
        "select count(*) from funnel.fct_lost_deals where lower(lost_at_stage) in "
        "('closed lost', 'lost', 'closedlost')",
    ) == [(0,)]


def test_ab_arms_count_the_meetings_and_wins_of_their_leads(built: dict) -> None:
    target = built["target"]
    arms = query(
        target,
        "select sum(meetings_booked_leads), sum(meetings_held_leads), sum(deals_won_leads), "
        "count(*) filter (where meetings_held_leads > meetings_booked_leads "
        "or meetings_booked_leads > leads) from content.fct_ab_test_results",
    )[0]
    booked, held, won, impossible = arms
    assert booked > 0 and held > 0 and impossible == 0
    assert won <= held
