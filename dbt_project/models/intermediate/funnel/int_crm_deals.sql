{{ config(
    materialized='table',
    indexes=[{'columns': ['deal_key'], 'unique': True}],
    post_hook=["{{ analyze_if_rebuilt() }}"]
) }}
{#-
    Every deal from every CRM source in one shape, with its current stage read against its
    pipeline. A HubSpot deal's stage is known only when its pipeline (stg_hubspot__pipeline_stages)
    lists it: is_known_stage false is quarantined by the marts, never mapped to a default. A
    standalone-CRM deal's stage is the agency's own word, always known; its status says won or
    lost.
-#}
with

hubspot_deals as (
    select * from {{ ref('stg_hubspot__deals') }}
),

pipeline_stages as (
    select * from {{ ref('stg_hubspot__pipeline_stages') }}
),

csv_deals as (
    select * from {{ ref('stg_crm__deals') }}
),

hubspot as (
    select
        'hubspot:' || hubspot_deals.deal_id as deal_key,
        'hubspot' as source_system,
        hubspot_deals.deal_id,
        null::text as client_slug,
        hubspot_deals.owner_id,
        hubspot_deals.deal_name,
        hubspot_deals.pipeline_id,
        hubspot_deals.stage_id,
        pipeline_stages.stage_label,
        pipeline_stages.stage_order,
        pipeline_stages.stage_id is not null as is_known_stage,
        exists(
            select 1 from pipeline_stages as known
            where known.pipeline_id = hubspot_deals.pipeline_id
        ) as is_known_pipeline,
        case
            when coalesce(pipeline_stages.is_won, hubspot_deals.is_closed_won) then 'won'
            when coalesce(pipeline_stages.is_lost, hubspot_deals.is_closed and not hubspot_deals.is_closed_won) then 'lost'
            else 'open'
        end as deal_status,
        hubspot_deals.amount,
        hubspot_deals.currency,
        coalesce(hubspot_deals.probability, pipeline_stages.probability) as probability,
        hubspot_deals.created_at,
        hubspot_deals.close_date_at,
        hubspot_deals.modified_at,
        hubspot_deals.lost_reason_text,
        null::text as lost_reason_notes,
        (
            select coalesce(jsonb_agg('hubspot:' || contact_ids.contact_id order by contact_ids.position), '[]'::jsonb)
            from jsonb_array_elements_text(hubspot_deals.contact_ids) with ordinality as contact_ids (contact_id, position)
        ) as contact_keys,
        hubspot_deals.is_archived
    from hubspot_deals
    left join pipeline_stages
        on
            hubspot_deals.pipeline_id = pipeline_stages.pipeline_id
            and hubspot_deals.stage_id = pipeline_stages.stage_id
),

csv as (
    select
        'csv:' || deal_id as deal_key,
        'csv' as source_system,
        deal_id,
        client_slug,
        null::text as owner_id,
        deal_name,
        pipeline_id,
        lower(stage) as stage_id,
        stage as stage_label,
        null::integer as stage_order,
        true as is_known_stage,
        true as is_known_pipeline,
        deal_status,
        amount,
        currency,
        probability,
        created_at,
        close_date_at,
        modified_at,
        lost_reason_text,
        lost_reason_notes,
        case
            when coalesce(contact_email, contact_linkedin_url, contact_last_name) is not null
                then jsonb_build_array(
                    {{ csv_contact_key(
                        'contact_email', 'contact_linkedin_url', 'contact_first_name', 'contact_last_name', 'company_domain'
                    ) }}
                )
            else '[]'::jsonb
        end as contact_keys,
        false as is_archived
    from csv_deals
),

final as (
    select * from hubspot
    union all
    select * from csv
)

select * from final
