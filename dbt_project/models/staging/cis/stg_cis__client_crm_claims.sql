{#- One row per CRM owner or deal pipeline a client claims in config/clients.yml (`campaigns.crm`). -#}
with

clients as (
    select * from {{ source('cis', 'clients') }}
),

claims as (
    select
        clients.client_id,
        case crm_ids.id_kind when 'owner_ids' then 'owner' else 'pipeline' end as claim_kind,
        claimed.claim_id
    from clients
    cross join
        lateral jsonb_each(
            case when jsonb_typeof(clients.campaigns -> 'crm') = 'object' then clients.campaigns -> 'crm' else '{}'::jsonb end
        ) as crm_ids (id_kind, ids)
    cross join lateral jsonb_array_elements_text({{ json_array_or_empty("crm_ids.ids") }}) as claimed (claim_id)
    where crm_ids.id_kind in ('owner_ids', 'pipeline_ids')
)

select * from claims
