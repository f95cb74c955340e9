{#-
    The arms of every A/B test with the template each runs and its planned share of leads: a
    derived test's arms are the step's variants (the vendor's split, equal when it gives none;
    a deleted variant is kept with a planned share of 0); a declared test's are the arms the file
    names, matched to the step's variants by id or label (its split, equal when it gives none).
-#}
with

tests as (
    select * from {{ ref('int_ab_tests') }}
),

declared_arms as (
    select * from {{ ref('stg_cis__ab_test_arms') }}
),

templates as (
    select * from {{ ref('dim_templates') }}
),

derived as (
    select
        tests.ab_test_id,
        row_number() over (
            partition by tests.ab_test_id order by templates.variant_label, templates.variant_id
        )::integer as arm_number,
        templates.variant_id,
        templates.variant_label,
        null as arm_description,
        templates.template_id,
        coalesce(templates.is_deleted, false) as is_deleted,
        case when not coalesce(templates.is_deleted, false) then templates.split_percent end
            as planned_split_percent
    from tests
    inner join templates
        on
            tests.provider = templates.provider
            and tests.campaign_id = templates.campaign_id
            and tests.step_number = templates.channel_step_number
            and templates.channel = 'email'
            and templates.variant_id is not null
    where tests.test_source = 'derived'
),

declared as (
    select
        tests.ab_test_id,
        declared_arms.arm_number,
        coalesce(templates.variant_id, declared_arms.variant_id) as variant_id,
        coalesce(templates.variant_label, declared_arms.variant_label) as variant_label,
        declared_arms.arm_description,
        templates.template_id,
        coalesce(templates.is_deleted, false) as is_deleted,
        declared_arms.planned_split_percent
    from tests
    inner join declared_arms
        on tests.test_key = declared_arms.test_key
    left join templates
        on
            tests.provider = templates.provider
            and tests.campaign_id = templates.campaign_id
            and tests.step_number = templates.channel_step_number
            and templates.channel = 'email'
            and (
                templates.variant_id = declared_arms.variant_id
                or (declared_arms.variant_id is null and templates.variant_label = declared_arms.variant_label)
            )
),

arms as (
    select * from derived
    union all
    select * from declared
),

shares as (
    select
        *,
        count(*) filter (where not is_deleted) over (partition by ab_test_id) as live_arms,
        sum(planned_split_percent) filter (where not is_deleted) over (partition by ab_test_id)
            as planned_total
    from arms
),

final as (
    select
        ab_test_id,
        arm_number,
        variant_id,
        variant_label,
        arm_description,
        template_id,
        is_deleted,
        planned_split_percent,
        case
            when is_deleted then 0
            when planned_total > 0 then coalesce(planned_split_percent, 0) / planned_total
            else 1.0 / nullif(live_arms, 0)
        end::numeric(6, 5) as planned_share
    from shares
)

select * from final
