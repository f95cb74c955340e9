{#-
    Identity resolution over Apollo ids: every Apollo person id gets the lead it belongs to.
    Apollo ids are linked when they share a normalised email, then a LinkedIn URL (so the same
    Apollo id with a new email stays one person, and one email under two Apollo ids is one
    person); shared role addresses (info@, sales@ ..., var role_email_local_parts) link nobody.
    Links are transitive: a lead is a connected component of the graph of Apollo ids and the keys
    they share, named after its first-seen Apollo id (earliest pull time from the data, then id).

    The components come from min-label propagation over the shared keys only (a few per cent of
    the ids), with no join whose cost depends on the planner's row estimates: each pass takes,
    per key, the smallest label of its ids and, per id, the smallest label of its keys (two
    window sorts), and passes repeat until no label changes (the longest chain of shared keys
    in a component). Every other Apollo id is a lead of its own.
-#}
{{ config(
    materialized='table',
    indexes=[
        {'columns': ['apollo_person_id'], 'unique': true},
        {'columns': ['lead_id']},
    ],
    post_hook=["{{ analyze_if_rebuilt() }}"]
) }}

with recursive

people as (
    select * from {{ ref('stg_apollo__people') }}
),

records as (
    select
        apollo_person_id,
        email,
        linkedin_key,
        min(pull_time) over (partition by apollo_person_id) as first_pulled_at
    from people
),

identity_keys as (
    select
        apollo_person_id,
        first_pulled_at,
        'email:' || email as identity_key,
        1 as key_rank
    from records
    where email is not null and not {{ is_role_email('email') }}
    union
    select
        apollo_person_id,
        first_pulled_at,
        'linkedin:' || linkedin_key as identity_key,
        2 as key_rank
    from records
    where linkedin_key is not null
),

key_holders as (
    -- The rows are distinct per Apollo id and key, so the count is the key's Apollo ids.
    select
        *,
        count(*) over (partition by identity_key) as key_person_count
    from identity_keys
),

shared_keys as (
    select
        apollo_person_id,
        first_pulled_at,
        identity_key,
        key_rank
    from key_holders
    where key_person_count > 1
),

propagated (pass, apollo_person_id, first_pulled_at, identity_key, key_rank, component_label) as (
    select
        0 as pass,
        apollo_person_id,
        first_pulled_at,
        identity_key,
        key_rank,
        apollo_person_id as component_label
    from shared_keys
    union all
    select
        pass + 1 as pass,
        apollo_person_id,
        first_pulled_at,
        identity_key,
        key_rank,
        next_label as component_label
    from (
        select
            *,
            bool_or(next_label < component_label) over () as is_changed
        from (
            select
                *,
                min(key_label) over (partition by apollo_person_id) as next_label
            from (
                select
                    *,
                    min(component_label) over (partition by identity_key) as key_label
                from propagated
            ) as by_key
        ) as by_person
    ) as compared
    where is_changed
),

last_pass as (
    select
        *,
        max(pass) over () as final_pass
    from propagated
),

linked as (
    select distinct
        apollo_person_id,
        first_value(apollo_person_id) over (
            partition by component_label
            order by first_pulled_at asc nulls last, apollo_person_id asc
        ) as lead_anchor_id,
        min(key_rank) over (partition by component_label) as key_rank
    from last_pass
    where pass = final_pass
),

person_ids as (
    -- Every Apollo id, with the lead of its component when it has one (no join: one grouping).
    select
        apollo_person_id,
        first_pulled_at,
        null as lead_anchor_id,
        null::integer as key_rank
    from records
    union all
    select
        apollo_person_id,
        null as first_pulled_at,
        lead_anchor_id,
        key_rank
    from linked
),

resolved as (
    select
        apollo_person_id,
        min(first_pulled_at) as first_pulled_at,
        coalesce(max(lead_anchor_id), apollo_person_id) as lead_anchor_id,
        min(key_rank) as key_rank
    from person_ids
    group by apollo_person_id
),

final as (
    select
        apollo_person_id,
        first_pulled_at,
        lead_anchor_id,
        {{ cis_uuid(["'lead'", 'lead_anchor_id']) }} as lead_id,
        case key_rank
            when 1 then 'email'
            when 2 then 'linkedin_url'
            else 'apollo_id'
        end as identity_basis
    from resolved
)

select * from final
