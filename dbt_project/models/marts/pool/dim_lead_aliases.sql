{#-
    Every lead id a lead has ever had or could have had. A lead id is md5('lead|' || an Apollo
    id of its component); when two leads later turn out to be one person, the id of the one that
    gives way stays valid here, so assignments and events recorded against it still find the
    person (and exclusivity still holds).
-#}
{{ config(
    indexes=[{'columns': ['lead_id']}],
    post_hook=[
        "{{ create_client_held_functions() }}",
        "{{ client_row_security(using='lead_id in (select ' ~ this.schema ~ '.client_held_lead_ids())') }}",
    ]
) }}

with

pulls as (
    select * from {{ ref('int_person_pulls_resolved') }}
),

apollo_ids as (
    select distinct
        apollo_person_id,
        lead_id
    from pulls
),

final as (
    select
        {{ cis_uuid(["'lead'", 'apollo_person_id']) }} as alias_lead_id,
        lead_id,
        apollo_person_id
    from apollo_ids
)

select * from final
