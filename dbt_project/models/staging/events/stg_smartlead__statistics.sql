{{
  config(
    materialized='incremental',
    incremental_strategy='append',
    on_schema_change='fail',
    indexes=[
      {'columns': ['stats_id'], 'unique': True},
      {'columns': ['lead_key']},
    ],
    pre_hook=["{{ stash_raw_version('smartlead', 'statistics') }}", "{{ clear_key_scope('smartlead', 'statistics', 'stats_id', \"payload ->> 'stats_id'\") }}"],
    post_hook=["{{ record_staged_refresh('smartlead', 'statistics') }}", "{{ analyze_if_rebuilt() }}"]
  )
}}
{% set load_scope = staged_load_scope('smartlead', 'statistics') %}
{#-
    The state of each Smartlead statistics row (one per sent email, `stats_id`): of the versions
    stored, the one that knows most (a row only gains a reply, clicks, opens, a category or an
    unsubscribe as time passes), the last loaded among equals; `versions` counts them.
-#}
-- depends_on: {{ ref('stg_dlt__event_loads') }}
with

-- The statistics rows new loads bring a version of: every version of them is read again (only
-- a run that reads new loads uses this).
changed_rows as ( -- noqa: ST03
    select new_rows.payload ->> 'stats_id' as stats_id
    from ({{ raw_event_rows('smartlead', 'statistics') }}) as new_rows
    where {{ in_load_scope('new_rows.load_id', load_scope) }}
),

raw_rows as (
    select * from ({{ raw_event_rows('smartlead', 'statistics') }}) as raw_rows
    where {{ 'true' if load_scope is none else "raw_rows.payload ->> 'stats_id' in (select changed_rows.stats_id from changed_rows)" }}
),

source as (
    {{ unpacked_event_rows('raw_rows') }}
),

versions as (
    select
        payload ->> 'stats_id' as stats_id,
        campaign_id,
        lead_email,
        payload ->> 'lead_category' as lead_category,
        {{ event_int("payload ->> 'sequence_number'") }} as sequence_number,
        payload ->> 'email_campaign_seq_id' as step_id,
        payload ->> 'seq_variant_id' as variant_id,
        payload ->> 'email_subject' as email_subject,
        payload ->> 'email_message' as email_html,
        occurred_at as sent_at,
        {{ event_time("payload ->> 'open_time'") }} as open_at,
        {{ event_time("payload ->> 'click_time'") }} as click_at,
        {{ event_time("payload ->> 'reply_time'") }} as reply_at,
        {{ event_int("payload ->> 'open_count'") }} as open_count,
        {{ event_int("payload ->> 'click_count'") }} as click_count,
        lower(payload ->> 'is_unsubscribed') = 'true' as is_unsubscribed,
        lower(payload ->> 'is_bounced') = 'true' as is_bounced,
        loaded_at,
        delivery_id
    from source
    where payload ? 'stats_id'
),

ranked as (
    select
        *,
        count(*) over (partition by stats_id) as version_count,
        row_number() over (
            partition by stats_id
            order by
                (reply_at is not null) desc,
                coalesce(click_count, 0) desc,
                coalesce(open_count, 0) desc,
                (lead_category is not null) desc,
                coalesce(is_unsubscribed, false) desc,
                loaded_at desc,
                delivery_id desc
        ) as knowledge_rank
    from versions
),

latest as (
    select
        stats_id,
        campaign_id,
        lead_email,
        coalesce({{ email_key('lead_email') }}, '') as lead_key,
        lead_category,
        sequence_number,
        step_id,
        variant_id,
        email_subject,
        email_html,
        sent_at,
        open_at,
        click_at,
        reply_at,
        open_count,
        click_count,
        is_unsubscribed,
        is_bounced,
        version_count::integer as versions
    from ranked
    where knowledge_rank = 1
)

select * from latest
