{{
  config(
    materialized='table',
    indexes=[
      {'columns': ['provider', 'activity_key'], 'unique': True},
      {'columns': ['recipient_ref']},
      {'columns': ['lead_id']},
    ],
    post_hook=["analyze {{ this }}"]
  )
}}
{#-
    The activities this build recomputes after int_activities (docs/engagement.md, "Incremental
    builds"): those of the people in scope (int_engagement_scope, by channel and address) and
    those int_activities stamped since the least advanced person-scoped model last ran. The
    per-recipient and per-activity models read it (in_refreshed_rows) instead of each working it
    out again; a small table with planner statistics, so their joins on it stay index lookups.
    Empty when the build recomputes everyone.
-#}
{%- set person_models = person_scoped_models() %}
with

refresh as (
    select * from {{ ref('int_engagement_refresh') }}
),

scope as (
    select * from {{ ref('int_engagement_scope') }}
),

activities as not materialized (
    select * from {{ ref('int_activities') }}
),

state as (
    select * from {{ incremental_state_table() }}
),

stamped_since as (
    select coalesce(min(state.refreshed_at), '-infinity'::timestamptz) as refreshed_at
    from state
    where state.model_name = any(array[{% for name in person_models %}'{{ name }}'{{ ', ' if not loop.last }}{% endfor %}]::text[])
),

recomputed as (
    select
        activities.provider,
        activities.activity_key,
        activities.recipient_ref,
        activities.lead_id
    from activities
    where activities.refreshed_at > (select stamped_since.refreshed_at from stamped_since)
    union
    select
        activities.provider,
        activities.activity_key,
        activities.recipient_ref,
        activities.lead_id
    from scope
    inner join activities
        on scope.scope_value = activities.lead_key
    where scope.scope_kind = 'email' and activities.channel = 'email'
    union
    select
        activities.provider,
        activities.activity_key,
        activities.recipient_ref,
        activities.lead_id
    from scope
    inner join activities
        on scope.scope_value = activities.contact_key
    where scope.scope_kind = 'linkedin' and activities.channel = 'linkedin'
    union
    select
        activities.provider,
        activities.activity_key,
        activities.recipient_ref,
        activities.lead_id
    from scope
    inner join activities
        on scope.scope_value = activities.contact_key
    where scope.scope_kind = 'phone' and activities.channel = 'sms'
),

final as (
    select
        recomputed.provider,
        recomputed.activity_key,
        {{ cis_uuid(["'activity'", 'recomputed.provider', 'recomputed.activity_key']) }} as activity_id,
        recomputed.recipient_ref,
        recomputed.lead_id
    from recomputed
    where not (select refresh.is_full from refresh)
)

select * from final
