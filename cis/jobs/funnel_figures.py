"""The demo's funnel lines: per client the leads at each step and the conversion between
steps, the meetings' show and no-show rates, the median days deals spend in each stage, and
won revenue by channel under each attribution model (per currency)."""

from __future__ import annotations

from dataclasses import dataclass

from cis.db import Target, cursor, relation_exists

COHORTS = "funnel.fct_funnel_cohorts"
MEETINGS = "funnel.fct_meetings"
STAGES = "funnel.fct_deal_stage_history"
ATTRIBUTION = "funnel.fct_revenue_attribution"
MATCHES = "intermediate.int_crm_contact_matches"
# (step column, label) in funnel order.
STEPS = (
    ("leads_touched", "touched"),
    ("leads_replied", "replied"),
    ("leads_replied_positively", "positive"),
    ("leads_booked", "booked"),
    ("leads_met", "met"),
    ("leads_with_opportunity", "deal"),
    ("leads_won", "won"),
)


@dataclass(frozen=True)
class ClientFunnel:
    client: str
    steps: tuple[int, ...]  # leads at each of STEPS


@dataclass(frozen=True)
class FunnelFigures:
    funnels: list[ClientFunnel]
    # (client, meetings held, no-shows, past still scheduled)
    shows: list[tuple[str, int, int, int]]
    stage_days: list[tuple[str, str, int, float]]  # (pipeline, stage, entries left, median days)
    revenue: list[tuple[str, str, str, float]]  # (model, currency, channel, amount)
    contacts: list[tuple[str, int]]  # (match method, contacts)


def funnel_figures(target: Target) -> FunnelFigures | None:
    with cursor(target) as cur:
        if not all(relation_exists(cur, r) for r in (COHORTS, MEETINGS, STAGES, ATTRIBUTION)):
            return None
        sums = ", ".join(f"sum({column})::bigint" for column, _label in STEPS)
        cur.execute(
            f"select c.client_slug, {sums} from {COHORTS} as f "
            "join cis.clients as c using (client_id) group by 1 order by 1"
        )
        funnels = [ClientFunnel(row[0], tuple(row[1:])) for row in cur.fetchall()]
        cur.execute(
            "select coalesce(c.client_slug, '(no client)'), count(*) filter (where m.is_held), "
            "count(*) filter (where m.meeting_outcome = 'no_show'), "
            f"count(*) filter (where m.is_past_still_scheduled) from {MEETINGS} as m "
            "left join cis.clients as c using (client_id) group by 1 order by 1"
        )
        shows = cur.fetchall()
        cur.execute(
            "select source_system || ': ' || pipeline_id, coalesce(stage_label, stage_id), count(*), "
            "percentile_cont(0.5) within group (order by days_in_stage) "
            f"from {STAGES} where exited_at is not null "
            "group by 1, 2 order by 1, min(coalesce(stage_order, stage_number)), 2"
        )
        stage_days = [(p, s, n, float(d)) for p, s, n, d in cur.fetchall()]
        cur.execute(
            "select attribution_model, coalesce(currency, '(none)'), channel, "
            f"sum(attributed_amount)::float from {ATTRIBUTION} group by 1, 2, 3 order by 1, 2, 4 desc"
        )
        revenue = cur.fetchall()
        contacts: list[tuple[str, int]] = []
        if relation_exists(cur, MATCHES):
            cur.execute(f"select match_method, count(*) from {MATCHES} group by 1 order by 2 desc")
            contacts = cur.fetchall()
    return FunnelFigures(funnels, shows, stage_days, revenue, contacts)
