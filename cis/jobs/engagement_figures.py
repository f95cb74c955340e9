"""The demo's engagement lines: touches per channel, human against machine opens and clicks,
the share of touches with their copy, variant and local send time, and the A/B results."""

from __future__ import annotations

from dataclasses import dataclass

from cis.db import Target, cursor, relation_exists


@dataclass(frozen=True)
class ChannelTouches:
    channel: str
    touches: int
    activities: int  # touches and other actions (profile views, likes, follows)
    with_body: int
    with_local_time: int
    with_lead: int


@dataclass(frozen=True)
class EmailEngagement:
    emails: int
    opened_raw: int  # any open, what a vendor dashboard counts
    opened: int  # human opens only
    clicked_raw: int
    clicked: int
    replied: int
    machine_opens: int
    opens: int
    bot_clicks: int
    clicks: int
    at_ab_steps: int  # emails sent at a step under an A/B test
    with_variant: int  # of those, with their variant known


@dataclass(frozen=True)
class ArmResult:
    test: str
    arm: str
    leads: int
    reply_rate: float | None
    planned_share: float
    srm_p_value: float | None
    srm_flag: bool
    is_deleted: bool


def channel_touches(target: Target) -> list[ChannelTouches]:
    with cursor(target) as cur:
        if not relation_exists(cur, "engagement.fct_activities"):
            return []
        cur.execute(
            """
            select channel, count(*) filter (where is_touch), count(*),
                count(*) filter (where is_touch and full_message_body is not null),
                count(*) filter (where is_touch and local_sent_at is not null),
                count(*) filter (where is_touch and lead_id is not null)
            from engagement.fct_activities group by channel order by channel
            """
        )
        return [ChannelTouches(*row) for row in cur.fetchall()]


def email_engagement(target: Target) -> EmailEngagement | None:
    with cursor(target) as cur:
        if not relation_exists(cur, "engagement.fct_activity_engagement"):
            return None
        cur.execute(
            """
            with emails as (
                select e.* from engagement.fct_activity_engagement as e where e.channel = 'email'
            ),
            ab_steps as (
                select a.variant_id from engagement.fct_activities as a
                join content.dim_ab_tests as t
                    on t.provider = a.provider and t.campaign_id = a.campaign_id
                    and t.step_number = a.sequence_number
            )
            select
                (select count(*) from emails),
                (select count(*) filter (where email_opened_raw) from emails),
                (select count(*) filter (where email_opened) from emails),
                (select count(*) filter (where email_clicked_raw) from emails),
                (select count(*) filter (where email_clicked) from emails),
                (select count(*) filter (where replied) from emails),
                (select count(*) filter (where is_machine_open) from engagement.fct_email_events),
                (select count(*) filter (where event_type = 'open') from engagement.fct_email_events),
                (select count(*) filter (where is_bot_click) from engagement.fct_email_events),
                (select count(*) filter (where event_type = 'click') from engagement.fct_email_events),
                (select count(*) from ab_steps),
                (select count(variant_id) from ab_steps)
            """
        )
        return EmailEngagement(*cur.fetchone())


def ab_results(target: Target) -> list[ArmResult]:
    with cursor(target) as cur:
        if not relation_exists(cur, "content.fct_ab_test_results"):
            return []
        cur.execute(
            """
            select
                coalesce(t.test_key, t.provider || ' ' || t.campaign_id || ' step ' || t.step_number),
                coalesce(r.variant_label, r.variant_id, '#' || r.arm_number),
                r.leads, r.reply_rate, r.planned_share, r.srm_p_value, r.srm_flag, r.is_deleted
            from content.fct_ab_test_results as r
            join content.dim_ab_tests as t using (ab_test_id)
            order by t.provider, t.campaign_id, t.step_number, r.arm_number
            """
        )
        return [
            ArmResult(
                test,
                arm,
                leads,
                float(rate) if rate is not None else None,
                float(share or 0),
                p,
                flag,
                deleted,
            )
            for test, arm, leads, rate, share, p, flag, deleted in cur.fetchall()
        ]
