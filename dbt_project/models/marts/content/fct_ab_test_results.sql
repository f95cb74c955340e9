{{
  config(
    materialized='table',
    indexes=[
      {'columns': ['ab_test_id', 'arm_number'], 'unique': True},
      {'columns': ['client_id']},
    ],
    post_hook=["{{ client_row_security('client_id') }}"]
  )
}}
{#-
    Each arm of each A/B test with what its leads did (counted per lead, not per send) and the
    test's sample-ratio-mismatch check: the leads each live arm got against the planned split, a
    chi-square test (cis.chi_square_p_value), flagged at p < 0.001 (docs/ab-tests.md); and what
    came of each arm's leads after the step reached them: meetings booked and held, deals won
    (funnel.fct_lead_funnel).
-#}
with

tests as (
    select * from {{ ref('int_ab_tests') }}
),

arms as (
    select * from {{ ref('int_ab_test_arms') }}
),

step_recipients as (
    select * from {{ ref('int_ab_test_step_recipients') }}
),

lead_funnel as (
    select * from {{ ref('fct_lead_funnel') }}
),

-- The lead and client behind each recipient of a test's step (the latest send names them).
recipient_leads as (
    select distinct on (activities.recipient_ref)
        activities.recipient_ref,
        activities.lead_id,
        activities.client_id
    from {{ ref('fct_activities') }} as activities
    where
        activities.lead_id is not null
        and activities.recipient_ref in (select step_recipients.recipient_ref from step_recipients)
    order by activities.recipient_ref asc, activities.sent_at desc
),

-- What came of the arm's leads after the step was sent to them: meetings and deals won.
arm_outcomes as (
    select
        arms.ab_test_id,
        arms.arm_number,
        count(*) filter (where lead_funnel.meeting_booked_at >= step_recipients.first_sent_at)::integer
            as meetings_booked_leads,
        count(*) filter (where lead_funnel.meeting_held_at >= step_recipients.first_sent_at)::integer
            as meetings_held_leads,
        count(*) filter (where lead_funnel.won_at >= step_recipients.first_sent_at)::integer as deals_won_leads
    from arms
    inner join step_recipients
        on arms.ab_test_id = step_recipients.ab_test_id and arms.variant_id = step_recipients.variant_id
    inner join recipient_leads on step_recipients.recipient_ref = recipient_leads.recipient_ref
    inner join lead_funnel
        on recipient_leads.lead_id = lead_funnel.lead_id and recipient_leads.client_id = lead_funnel.client_id
    group by arms.ab_test_id, arms.arm_number
),

arm_figures as (
    select
        arms.ab_test_id,
        arms.arm_number,
        sum(step_recipients.sends)::integer as sends,
        count(*)::integer as leads,
        count(*) filter (where step_recipients.opened)::integer as opened_leads,
        count(*) filter (where step_recipients.clicked)::integer as clicked_leads,
        count(*) filter (where step_recipients.replied)::integer as replied_leads,
        count(*) filter (where step_recipients.replied_positive)::integer as positive_replied_leads
    from arms
    inner join step_recipients
        on arms.ab_test_id = step_recipients.ab_test_id and arms.variant_id = step_recipients.variant_id
    group by arms.ab_test_id, arms.arm_number
),

measured as (
    select
        arms.*,
        coalesce(arm_figures.sends, 0) as sends,
        coalesce(arm_figures.leads, 0) as leads,
        coalesce(arm_figures.opened_leads, 0) as opened_leads,
        coalesce(arm_figures.clicked_leads, 0) as clicked_leads,
        coalesce(arm_figures.replied_leads, 0) as replied_leads,
        coalesce(arm_figures.positive_replied_leads, 0) as positive_replied_leads,
        sum(coalesce(arm_figures.leads, 0)) filter (where arms.planned_share > 0) over (
            partition by arms.ab_test_id
        ) as test_leads
    from arms
    left join arm_figures
        on arms.ab_test_id = arm_figures.ab_test_id and arms.arm_number = arm_figures.arm_number
),

expected as (
    select
        *,
        case when planned_share > 0 then test_leads * planned_share end as expected_leads
    from measured
),

srm_statistics as (
    select
        ab_test_id,
        sum((leads - expected_leads) ^ 2 / expected_leads) as chi_square,
        count(*) - 1 as degrees,
        -- The chi-square approximation wants five or more expected leads in every arm.
        bool_and(expected_leads >= 5) and count(*) >= 2 as testable
    from expected
    where expected_leads > 0
    group by ab_test_id
),

srm as (
    select
        ab_test_id,
        round(chi_square::numeric, 4) as chi_square,
        cis.chi_square_p_value(chi_square, degrees::integer) as p_value
    from srm_statistics
    where testable
),

final as (
    select
        expected.ab_test_id,
        expected.arm_number,
        tests.client_id,
        expected.variant_id,
        expected.variant_label,
        expected.arm_description,
        expected.template_id,
        expected.is_deleted,
        expected.sends = 0 as never_sent,
        expected.planned_share,
        expected.sends,
        expected.leads,
        expected.opened_leads,
        expected.clicked_leads,
        expected.replied_leads,
        expected.positive_replied_leads,
        {{ rate('expected.opened_leads', 'expected.leads') }} as open_rate,
        {{ rate('expected.clicked_leads', 'expected.leads') }} as click_rate,
        {{ rate('expected.replied_leads', 'expected.leads') }} as reply_rate,
        {{ rate('expected.positive_replied_leads', 'expected.leads') }} as positive_reply_rate,
        coalesce(arm_outcomes.meetings_booked_leads, 0) as meetings_booked_leads,
        coalesce(arm_outcomes.meetings_held_leads, 0) as meetings_held_leads,
        coalesce(arm_outcomes.deals_won_leads, 0) as deals_won_leads,
        {{ rate('coalesce(arm_outcomes.meetings_booked_leads, 0)', 'expected.leads') }} as meeting_rate,
        round(expected.expected_leads, 2) as expected_leads,
        srm.chi_square as srm_chi_square,
        srm.p_value as srm_p_value,
        coalesce(srm.p_value < 0.001, false) as srm_flag
    from expected
    inner join tests
        on expected.ab_test_id = tests.ab_test_id
    left join srm
        on expected.ab_test_id = srm.ab_test_id
    left join arm_outcomes
        on expected.ab_test_id = arm_outcomes.ab_test_id and expected.arm_number = arm_outcomes.arm_number
)

select * from final
