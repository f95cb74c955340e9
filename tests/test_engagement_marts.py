"""engagement.fct_email_events end to end: generated vendor events in both Smartlead dialects and
Salesforge, loaded through `ingest landing` and built with dbt on a real PostgreSQL."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest

from cis.ab_tests import parse_ab_tests
from cis.bootstrap import bootstrap
from cis.clients import load_clients
from cis.db import Target, transformer_target
from cis.generate import generate_landing
from cis.generate.events import DEFAULT_CLIENTS
from cis.jobs.ab_tests_sync import sync_ab_tests
from cis.jobs.clients_sync import sync_clients
from cis.jobs.ingest import ingest_landing
from cis.transform import run_dbt
from tests.event_builds import DATA_TESTED
from tests.pg import embedded_server, fresh_database, query

EMAIL_EVENTS = {
    "smartlead": {
        "EMAIL_SENT": "sent",
        "EMAIL_OPEN": "open",
        "EMAIL_OPENED": "open",
        "EMAIL_LINK_CLICK": "click",
        "EMAIL_CLICKED": "click",
        "EMAIL_REPLY": "reply",
        "EMAIL_REPLIED": "reply",
        "EMAIL_BOUNCE": "bounce",
        "EMAIL_BOUNCED": "bounce",
        "LEAD_UNSUBSCRIBED": "unsubscribe",
        "EMAIL_UNSUBSCRIBED": "unsubscribe",
    },
    "salesforge": {
        "email_sent": "sent",
        "email_opened": "open",
        "link_clicked": "click",
        "email_replied": "reply",
        "email_bounced": "bounce",
        "contact_unsubscribed": "unsubscribe",
    },
}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("engagement")
    target = fresh_database(embedded_server(), "engagement_marts")
    bootstrap(target)
    clients = load_clients(DEFAULT_CLIENTS)
    sync_clients(target, clients)
    # One declared test whose planned split (90/10) the campaign never ran: its sample-ratio
    # check must flag it. The other multi-variant steps stay derived.
    declared = {
        "key": "ledgerly-skewed",
        "client": "ledgerly",
        "provider": "smartlead",
        "campaign_id": "1852090",
        "step": 1,
        "hypothesis": "Planned 90/10, sent 50/50.",
        "variants": [{"label": "A", "split": 90}, {"label": "B", "split": 10}],
    }
    sync_ab_tests(
        target, parse_ab_tests({"ab_tests": [declared]}, [c.slug for c in clients]), clients
    )
    landing = work / "landing"
    generate_landing(landing, 400, seed=11, events=True, truth=work / "truth.jsonl")
    ingest_landing(target, landing, pipelines_dir=work / "dlt")
    run_dbt(
        ["build", "--quiet"],
        transformer_target(target),
        work_dir=work / "dbt",
    )
    return {"target": target, "work": work}


def _raw_email_rows(target: Target, provider: str) -> list[tuple[str, str]]:
    names = list(EMAIL_EVENTS[provider])
    return query(
        target,
        f"select event_key, event_name from raw_{provider}.webhook_events "
        "where event_name = any(%s)",
        (names,),
    )


def test_one_row_per_event_key_and_every_delivery_counted(built: dict) -> None:
    target = built["target"]
    for provider in EMAIL_EVENTS:
        raw = _raw_email_rows(target, provider)
        keys = {key for key, _name in raw}
        assert raw and len(keys) < len(raw), f"{provider}: the generator plants duplicates"
        mart = query(
            target,
            "select count(*), count(distinct event_key), sum(deliveries) "
            "from engagement.fct_email_events where provider = %s",
            (provider,),
        )[0]
        assert mart == (len(keys), len(keys), len(raw))


def test_both_dialects_land_in_one_vocabulary(built: dict) -> None:
    target = built["target"]
    by_name = dict(
        query(
            target,
            "select vendor_event_name, min(event_type) from engagement.fct_email_events "
            "group by vendor_event_name",
        )
    )
    expected = {**EMAIL_EVENTS["smartlead"], **EMAIL_EVENTS["salesforge"]}
    assert by_name and all(expected[name] == kind for name, kind in by_name.items())
    dialects = {
        row[0]
        for row in query(
            target,
            "select distinct dialect from engagement.fct_email_events where provider = 'smartlead'",
        )
    }
    assert dialects == {"A", "B"}


def test_machine_opens_and_bot_clicks_are_flagged_beside_human_ones(built: dict) -> None:
    target = built["target"]
    opens = dict(
        query(
            target,
            "select is_machine_open, count(*) from engagement.fct_email_events "
            "where event_type = 'open' group by 1",
        )
    )
    assert opens.get(True, 0) > 0 and opens.get(False, 0) > 0
    clicks = dict(
        query(
            target,
            "select is_bot_click, count(*) from engagement.fct_email_events "
            "where event_type = 'click' group by 1",
        )
    )
    assert clicks.get(True, 0) > 0
    # Flags name their rule, and only opens are machine opens, only clicks bot clicks.
    assert query(
        target,
        "select count(*) from engagement.fct_email_events where "
        "(is_machine_open or is_bot_click) <> (machine_reason is not null) "
        "or (is_machine_open and event_type <> 'open') or (is_bot_click and event_type <> 'click')",
    ) == [(0,)]


def machine_flag_scores(target: Target, truth: Path) -> dict[str, tuple[float, float, int]]:
    """Precision, recall and planted count of the machine flags, per event (open, click),
    against what the generator planted (matched on provider, email and second)."""
    flagged: Counter = Counter()
    for provider, key, event, at, machine in query(
        target,
        "select provider, message_key, event_type, date_trunc('second', occurred_at), "
        "is_machine_open or is_bot_click from engagement.fct_email_events "
        "where event_type in ('open', 'click')",
    ):
        flagged[(provider, key, event, at, machine)] += 1
    found = Counter(
        event for (_p, _k, event, _a, machine), n in flagged.items() if machine for _ in range(n)
    )
    planted: Counter = Counter()
    caught: Counter = Counter()
    for line in truth.read_text().splitlines():
        mark = json.loads(line)
        if not mark["machine"]:
            continue
        at = datetime.fromisoformat(mark["at"]).replace(microsecond=0)
        planted[mark["event"]] += 1
        for key in mark["message_keys"]:  # the email by each name the marts may give it
            name = (mark["provider"], key, mark["event"], at, True)
            if flagged[name] > 0:
                flagged[name] -= 1
                caught[mark["event"]] += 1
                break
    return {
        event: (caught[event] / found[event], caught[event] / planted[event], planted[event])
        for event in ("open", "click")
    }


def test_machine_flags_match_what_the_generator_planted(built: dict) -> None:
    scores = machine_flag_scores(built["target"], built["work"] / "truth.jsonl")
    print(f"machine flags against the planted truth: {scores}")
    for event, (precision, recall, planted) in scores.items():
        assert planted >= 10, event  # enough planted machine activity to measure
        assert precision >= 0.98 and recall >= 0.98, (event, precision, recall)


def test_events_reach_their_client_and_their_lead(built: dict) -> None:
    target = built["target"]
    attributed, with_lead, total = query(
        target,
        "select count(client_id), count(lead_id), count(*) from engagement.fct_email_events",
    )[0]
    assert total > 0
    assert attributed == total  # every generated campaign is claimed in config/clients.yml
    assert with_lead > 0.9 * total  # events are about pool leads (unknown ones kept, unlinked)


def test_the_marts_build_before_any_vendor_data_arrives(tmp_path: Path) -> None:
    target = fresh_database(embedded_server(), "engagement_empty")
    bootstrap(target)
    generate_landing(tmp_path / "landing", 50, seed=3, events=False)  # Apollo only
    ingest_landing(target, tmp_path / "landing", pipelines_dir=tmp_path / "dlt")
    assert query(target, "select to_regclass('raw_smartlead.webhook_events')") == [(None,)]
    run_dbt(DATA_TESTED, transformer_target(target), work_dir=tmp_path / "dbt")
    assert query(target, "select count(*) from engagement.fct_email_events") == [(0,)]


def test_templates_carry_every_variant_of_every_campaign(built: dict) -> None:
    target = built["target"]
    per_provider = dict(
        query(target, "select provider, count(*) from content.dim_templates group by provider")
    )
    assert per_provider.get("smartlead", 0) > 0 and per_provider.get("salesforge", 0) > 0
    # Smartlead: the templates are exactly the variants (or variant-less steps) of the latest
    # snapshot of each campaign.
    expected = query(
        target,
        """
        with latest as (
            select distinct on (campaign_id) campaign_id, payload
            from raw_smartlead.campaigns
            order by campaign_id, occurred_at desc nulls last, _loaded_at desc, delivery_id desc
        )
        select count(*) from latest,
            jsonb_array_elements(payload -> 'sequences') as s (step)
            left join lateral jsonb_array_elements(
                coalesce(nullif(step -> 'sequence_variants', 'null'), '[]')
            ) as v (variant) on true
        """,
    )[0][0]
    assert per_provider["smartlead"] == expected
    ab_steps = query(
        target,
        "select count(*) from (select step_id from content.dim_templates where variant_id is not "
        "null group by provider, campaign_id, step_id having count(*) > 1) as s",
    )[0][0]
    assert ab_steps > 0  # the generator puts A/B tests on some steps
    assert query(target, "select count(*) from content.dim_templates where client_id is null") == [
        (0,)
    ]


def test_each_statistics_row_is_its_most_informed_version(built: dict) -> None:
    target = built["target"]
    rows, distinct, versioned = query(
        target,
        "select count(*), count(distinct stats_id), count(*) filter (where versions > 1) "
        "from staging.stg_smartlead__statistics",
    )[0]
    assert rows == distinct > 0
    assert versioned > 0  # the generator writes earlier versions of rows that changed
    # The chosen version never knows less than another version of the same row.
    assert query(
        target,
        """
        select count(*) from staging.stg_smartlead__statistics as chosen
        join raw_smartlead.statistics as raw on raw.payload ->> 'stats_id' = chosen.stats_id
        where coalesce((raw.payload ->> 'open_count')::int, 0) > coalesce(chosen.open_count, 0)
           or (raw.payload ->> 'reply_time' is not null and chosen.reply_at is null)
        """,
    ) == [(0,)]


# ---- activities and the engagement on each --------------------------------------------------

TOUCHES = ("email", "sms", "connection_request", "message", "inmail")


def test_every_outbound_action_is_one_activity(built: dict) -> None:
    target = built["target"]
    expected = {
        "smartlead": "select count(distinct payload ->> 'stats_id') from raw_smartlead.statistics",
        "salesforge": "select count(distinct payload #>> '{sequenceEmail,emailId}') "
        "from raw_salesforge.webhook_events where event_name = 'email_sent'",
        "heyreach": "select count(distinct event_key) from raw_heyreach.webhook_events where "
        "event_name in ('viewed_profile', 'liked_post', 'follow_sent', "
        "'connection_request_sent', 'message_sent', 'inmail_sent')",
        "twilio": "select count(distinct payload ->> 'MessageSid') from raw_twilio.webhook_events "
        "where payload ? 'MessageStatus'",
    }
    per_provider = dict(
        query(target, "select provider, count(*) from engagement.fct_activities group by 1")
    )
    for provider, sql in expected.items():
        assert per_provider.get(provider, 0) == query(target, sql)[0][0] > 0, provider
    channels = dict(
        query(target, "select channel, count(*) from engagement.fct_activities group by 1")
    )
    assert set(channels) == {"email", "linkedin", "sms"}


def test_touches_are_numbered_per_lead_and_client_across_channels(built: dict) -> None:
    rows = query(
        built["target"],
        "select client_id, recipient_ref, sent_at, provider, activity_key, channel, touch_number, "
        "days_since_last_touch from engagement.fct_activities where is_touch",
    )
    by_person: dict[tuple, list[tuple]] = {}
    for client, ref, at, provider, key, channel, number, days in rows:
        by_person.setdefault((client, ref), []).append((at, provider, key, channel, number, days))
    multichannel = 0
    for touches in by_person.values():
        touches.sort()
        assert [t[4] for t in touches] == list(range(1, len(touches) + 1))
        assert touches[0][5] is None
        for before, after in pairwise(touches):
            gap = (after[0] - before[0]).total_seconds() / 86400
            assert abs(float(after[5]) - gap) <= 0.005
        multichannel += len({t[3] for t in touches}) > 1
    assert multichannel > 0  # people touched on two channels are numbered across both
    assert query(
        built["target"],
        "select count(*) from engagement.fct_activities where not is_touch and "
        f"(touch_number is not null or activity_type in {TOUCHES})",
    ) == [(0,)]


def test_smartlead_variants_come_from_the_statistics_rows(built: dict) -> None:
    # The variant label each send's statistics row names, read straight from the raw snapshots.
    mismatched, with_variant = query(
        built["target"],
        """
        with labels as (
            select distinct v.variant ->> 'id' as variant_id, v.variant ->> 'variant_label' as label
            from raw_smartlead.campaigns,
                jsonb_array_elements(payload -> 'sequences') as s (step),
                jsonb_array_elements(coalesce(nullif(s.step -> 'sequence_variants', 'null'), '[]'))
                    as v (variant)
        ),
        sends as (
            select distinct payload ->> 'stats_id' as stats_id, payload ->> 'seq_variant_id' as variant_id
            from raw_smartlead.statistics
        )
        select
            count(*) filter (where a.ab_variant is distinct from labels.label),
            count(*) filter (where labels.label is not null)
        from engagement.fct_activities as a
        join sends on sends.stats_id = a.activity_key
        left join labels on labels.variant_id = sends.variant_id
        where a.provider = 'smartlead'
        """,
    )[0]
    assert mismatched == 0 and with_variant > 0


def test_replies_belong_to_the_email_they_answered(built: dict) -> None:
    planted: dict[str, set[frozenset]] = {"smartlead": set(), "salesforge": set()}
    for line in (built["work"] / "truth.jsonl").read_text().splitlines():
        mark = json.loads(line)
        if mark["event"] == "reply":
            planted[mark["provider"]].add(frozenset(mark["message_keys"]))
    replied = query(
        built["target"],
        "select a.provider, a.activity_key from engagement.fct_activity_engagement e "
        "join engagement.fct_activities a using (activity_id) where e.replied and a.channel = 'email'",
    )
    for provider, keys in planted.items():
        found = {key for p, key in replied if p == provider}
        assert keys, provider
        # Each planted reply's email (by any name the marts may give it) is marked, and no other.
        assert all(names & found for names in keys), provider
        assert len(found) == len(keys), provider


def test_people_the_pool_does_not_know_are_kept_and_flagged(built: dict) -> None:
    target = built["target"]
    unknown, flagged = query(
        target,
        """
        select
            count(*) filter (where a.contact_value not in (
                select regexp_replace(phone, '[^0-9]', '', 'g') from pool.dim_leads
                where phone is not null
            )),
            count(*) filter (where a.is_unknown_lead)
        from engagement.fct_activities as a where a.provider = 'twilio'
        """,
    )[0]
    assert unknown > 0 and flagged == unknown


def test_local_send_time_is_the_leads_clock(built: dict) -> None:
    from zoneinfo import ZoneInfo

    rows = query(
        built["target"],
        "select sent_at, lead_time_zone, local_sent_at, local_day_of_week from "
        "engagement.fct_activities where lead_time_zone is not null",
    )
    assert rows
    for sent_at, zone, local, day in rows:
        expected = sent_at.astimezone(ZoneInfo(zone))
        assert local == expected.replace(tzinfo=None)
        assert day == expected.strftime("%A")


# ---- A/B tests ---------------------------------------------------------------------------------


def test_every_step_with_variants_is_one_test(built: dict) -> None:
    target = built["target"]
    steps = query(
        target,
        "select provider, campaign_id, channel_step_number from content.dim_templates "
        "where variant_id is not null and channel = 'email' group by 1, 2, 3 having count(*) >= 2",
    )
    tests = query(
        target,
        "select provider, campaign_id, step_number, test_source from content.dim_ab_tests",
    )
    assert sorted(t[:3] for t in tests) == sorted(steps) and len(steps) >= 3
    assert ("smartlead", "1852090", 1, "declared") in tests


def test_arm_results_count_leads_from_the_statistics_rows(built: dict) -> None:
    # Leads per Smartlead arm, straight from the raw statistics rows (variant and step).
    expected = dict(
        query(
            built["target"],
            """
            select payload ->> 'seq_variant_id', count(distinct lower(payload ->> 'lead_email'))
            from raw_smartlead.statistics
            where payload ->> 'seq_variant_id' is not null
              and (payload ->> 'sequence_number')::int = 1
            group by 1
            """,
        )
    )
    got = query(
        built["target"],
        "select r.variant_id, r.leads, r.sends, r.is_deleted, r.never_sent, r.planned_share "
        "from content.fct_ab_test_results r join content.dim_ab_tests t using (ab_test_id) "
        "where t.provider = 'smartlead' and t.step_number = 1",
    )
    live = [row for row in got if not row[3]]
    assert live and all(leads == expected[variant] for variant, leads, *_ in live)
    assert all(sends >= leads > 0 for _v, leads, sends, *_ in live)
    deleted = [row for row in got if row[3]]
    assert deleted and all(row[4] and row[5] == 0 for row in deleted)  # kept, marked


def test_sample_ratio_mismatch_is_flagged_only_where_the_split_is_off_plan(built: dict) -> None:
    flags = dict(
        query(
            built["target"],
            "select coalesce(t.test_key, t.provider || ':' || t.campaign_id || ':' || t.step_number), "
            "bool_or(r.srm_flag) from content.fct_ab_test_results r "
            "join content.dim_ab_tests t using (ab_test_id) "
            "where r.srm_p_value is not null group by 1",
        )
    )
    assert flags.pop("ledgerly-skewed") is True
    assert flags and not any(flags.values())  # the generator sends every split as planned


def test_salesforge_variants_are_told_by_their_copy(built: dict) -> None:
    # Salesforge names no variant: render the variant the marts chose with the contact's own
    # first name and company (from the raw webhook) and it must be the subject that was sent.
    rows = query(
        built["target"],
        """
        select w.payload #>> '{sequenceEmail,subject}', w.payload #>> '{contact,firstName}',
            w.payload #>> '{contact,company}', t.subject_template
        from engagement.fct_activities as a
        join content.dim_templates as t using (template_id)
        join raw_salesforge.webhook_events as w
            on w.event_name = 'email_sent' and w.payload #>> '{sequenceEmail,emailId}' = a.activity_key
        where a.provider = 'salesforge' and a.variant_id is not null
            and coalesce(t.subject_template, '') <> ''
        """,
    )
    assert rows
    for sent, first, company, template in rows:
        rendered = template.replace("{{first_name}}", first)
        rendered = rendered.replace("{{company_name}}", company).replace("{{company}}", company)
        assert rendered == sent
    untold = query(
        built["target"],
        "select sum(sends_without_variant) from content.dim_ab_tests where provider = 'salesforge'",
    )
    assert untold == [(0,)]


# ---- feedback into the pool and the validator -------------------------------------------------


def test_bounces_and_unsubscribes_reach_the_pool(built: dict) -> None:
    target = built["target"]
    bounced = query(
        target,
        "select l.email_status, l.pool_status from pool.dim_leads l where l.lead_id in ("
        "select lead_id from engagement.fct_email_events where bounce_type = 'hard')",
    )
    assert bounced and all(status == "bounced" for status, _pool in bounced)
    assert all(pool in ("bounced", "unsubscribed", "do_not_contact") for _s, pool in bounced)
    unsubscribed = query(
        target,
        "select l.pool_status from pool.dim_leads l where l.lead_id in ("
        "select lead_id from engagement.fct_email_events where event_type = 'unsubscribe')",
    )
    assert unsubscribed and all(p in ("unsubscribed", "do_not_contact") for (p,) in unsubscribed)
    # Soft bounces leave the address alone.
    soft_only = query(
        target,
        "select count(*) from pool.dim_leads l where l.email_status = 'bounced' and l.lead_id not in ("
        "select lead_id from engagement.fct_contact_events where event_type = 'bounce')",
    )
    assert soft_only == [(0,)]


def test_the_validator_reads_what_the_vendors_report(built: dict) -> None:
    from cis.db import connect
    from cis.jobs.frames import read_events, read_lead_history

    target = built["target"]
    events = read_events(target)
    vendor = query(
        target, "select event_type, count(*) from engagement.fct_contact_events group by 1"
    )
    assert {kind for kind, _n in vendor} >= {"touch", "reply", "bounce", "unsubscribe"}
    for kind, count in vendor:
        assert (events["event_type"] == kind).sum() >= count, kind
    lead_id, email = query(
        target,
        "select l.lead_id::text, l.email from pool.dim_leads l where l.lead_id in ("
        "select lead_id from engagement.fct_contact_events where event_type = 'reply') limit 1",
    )[0]
    conn = connect(target)
    try:
        _assignments, history = read_lead_history(conn, lead_id, email)
    finally:
        conn.close()
    kinds = {row["event_type"] for row in history}
    assert {"touch", "reply"} <= kinds  # the already-replied and spacing rules see them


def test_assignments_carry_the_contact_summary(built: dict) -> None:
    target = built["target"]
    client_id, lead_id, touches, channels = query(
        target,
        "select client_id::text, lead_id::text, count(*), array_agg(distinct channel order by channel) "
        "from engagement.fct_activities where is_touch and lead_id is not null "
        "group by 1, 2 having count(distinct channel) > 1 limit 1",
    )[0]
    from cis.db import connect

    conn = connect(target)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "insert into cis.lead_assignments (lead_id, client_id, assigned_by) "
                "values (%s, %s, 'test')",
                (lead_id, client_id),
            )
    finally:
        conn.close()
    run_dbt(  # the fixture's own dbt folder: its parse is reused
        ["run", "--quiet", "--select", "fct_lead_assignments"],
        transformer_target(target),
        work_dir=built["work"] / "dbt",
    )
    row = query(
        target,
        "select touches, channels_used, emails_sent, first_contacted_at <= last_contacted_at "
        "from pool.fct_lead_assignments where client_id = %s and lead_id = %s",
        (client_id, lead_id),
    )
    assert row and row[0][0] == touches and row[0][1] == channels and row[0][3]
