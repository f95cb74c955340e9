{{ config(materialized='table') }}
{#-
    What this build of the person-scoped event models reads (docs/engagement.md, "Incremental
    builds"), one row: the loads since the least advanced of them last ran, and the version of
    the inputs they cannot scope by person. When that version moved since any of them last ran
    (the pool's contact points or time zones, the clients' campaigns, the templates, the A/B tests
    declared in config, a deletion request, an event staging model that read its whole raw table
    again), they recompute every person.
-#}
{%- set person_models = person_scoped_models() %}
-- depends_on: {{ ref('stg_smartlead__email_events') }}, {{ ref('stg_smartlead__statistics') }}
-- depends_on: {{ ref('stg_salesforge__email_events') }}, {{ ref('stg_heyreach__linkedin_events') }}
-- depends_on: {{ ref('stg_twilio__sms_events') }}
with

loads as (
    select * from {{ ref('stg_dlt__event_loads') }}
),

contact_points as (
    select * from {{ ref('int_lead_contact_points') }}
),

lead_zones as (
    select * from {{ ref('int_lead_time_zones') }}
),

client_campaigns as (
    select * from {{ ref('stg_cis__client_campaigns') }}
),

templates as (
    select * from {{ ref('dim_templates') }}
),

suppression_keys as (
    select * from {{ ref('stg_cis__suppression_keys') }}
),

ab_tests as (
    select * from {{ ref('stg_cis__ab_tests') }}
),

ab_test_arms as (
    select * from {{ ref('stg_cis__ab_test_arms') }}
),

state as (
    select * from {{ incremental_state_table() }}
),

-- When each event staging model last read its whole raw table (rows it had staged were
-- deleted, or a deletion request came): whose rows went is not known, so everyone is recomputed.
staging_full_reads as (
    select
        coalesce(
            string_agg(state.model_name || '@' || coalesce(state.full_read_at::text, ''), ',' order by state.model_name),
            ''
        ) as full_reads
    from state
    where state.model_name in (
        'stg_smartlead__email_events', 'stg_smartlead__statistics', 'stg_salesforge__email_events',
        'stg_heyreach__linkedin_events', 'stg_twilio__sms_events'
    )
),

-- Each input by name and version: a model's recorded version names the inputs that moved.
input_parts as (
    select
        array[
            'contact_points=' || (
                select
                    md5(coalesce(
                        string_agg(contact_kind || ':' || contact_value || '=' || lead_id, ',' order by contact_kind, contact_value),
                        ''
                    ))
                from contact_points
            ),
            'time_zones=' || (
                select md5(coalesce(string_agg(lead_id || '=' || time_zone, ',' order by lead_id), ''))
                from lead_zones
            ),
            'client_campaigns=' || (
                select md5(coalesce(string_agg(client_campaigns::text, ',' order by client_campaigns::text), ''))
                from client_campaigns
            ),
            'templates=' || (
                select md5(coalesce(string_agg(templates::text, ',' order by templates.template_id), ''))
                from templates
            ),
            'ab_tests=' || (
                select md5(coalesce(string_agg(ab_tests::text, ',' order by ab_tests::text), ''))
                from ab_tests
            ),
            'ab_test_arms=' || (
                select md5(coalesce(string_agg(ab_test_arms::text, ',' order by ab_test_arms::text), ''))
                from ab_test_arms
            ),
            'deletion_requests=' || (select count(*)::text from suppression_keys),
            'staging_full_reads=' || (select md5(staging_full_reads.full_reads) from staging_full_reads)
        ] as parts
),

inputs as (
    select
        array_to_string(input_parts.parts, '/') as inputs_version,
        input_parts.parts
    from input_parts
),

models as (
    select unnest(array[{% for name in person_models %}'{{ name }}'{{ ', ' if not loop.last }}{% endfor %}]::text[])
        as model_name
),

model_state as (
    select
        models.model_name,
        state.loads_seen_through,
        state.inputs_version,
        state.refreshed_at
    from models
    left join state
        on models.model_name = state.model_name
),

-- Why this build recomputes everyone: a model never built, or an input whose version moved.
full_reasons as (
    select coalesce(string_agg(distinct reasons.reason, ', ' order by reasons.reason), '') as full_reasons
    from (
        select 'no state: ' || model_state.model_name as reason
        from model_state
        where model_state.loads_seen_through is null
        union all
        select split_part(current_parts.part, '=', 1) || ' changed' as reason
        from model_state
        cross join inputs
        cross join lateral unnest(inputs.parts) as current_parts (part)
        where
            model_state.loads_seen_through is not null
            and not current_parts.part = any(string_to_array(model_state.inputs_version, '/'))
    ) as reasons
),

state_summary as (
    select
        min(model_state.loads_seen_through) as scope_since,
        min(model_state.refreshed_at) as results_since,
        bool_or(model_state.loads_seen_through is null or model_state.inputs_version <> inputs.inputs_version)
            as is_full
    from model_state
    cross join inputs
),

load_summary as (
    select max(loads.seen_at) as loads_seen_through
    from loads
),

final as (
    select
        '{{ run_started_at }}'::timestamptz as build_started_at,
        inputs.inputs_version,
        coalesce(state_summary.scope_since, '-infinity'::timestamptz) as scope_since,
        coalesce(state_summary.results_since, '-infinity'::timestamptz) as results_since,
        load_summary.loads_seen_through,
        coalesce(state_summary.is_full, true) as is_full,
        full_reasons.full_reasons
    from inputs
    cross join state_summary
    cross join load_summary
    cross join full_reasons
)

select * from final
