{#- One row per vendor campaign a client claims in config/clients.yml (`campaigns:`). -#}
with

clients as (
    select * from {{ source('cis', 'clients') }}
),

claims as (
    select
        clients.client_id,
        vendors.vendor,
        campaign_ids.campaign_id
    from clients
    cross join lateral jsonb_each(clients.campaigns) as vendors (vendor, ids)
    cross join
        lateral jsonb_array_elements_text(
            {{ json_array_or_empty("vendors.ids") }}
        ) as campaign_ids (campaign_id)
    where vendors.vendor in ('smartlead', 'salesforge', 'heyreach', 'twilio')
)

select * from claims
