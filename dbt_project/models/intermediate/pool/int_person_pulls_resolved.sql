{#-
    Identity resolution: every person pull gets the lead it belongs to. Apollo records are linked
    when they share a normalised email, then a LinkedIn URL, then an Apollo id (so the same Apollo
    id with a new email stays one person, and one email under two Apollo ids is one person).
    Links are transitive: connected components over a star graph per shared key. Shared role
    addresses (info@, sales@ ..., var role_email_local_parts) link nobody. A lead is named after
    the component's first-seen Apollo id, so a record pulled later never renames its lead.
-#}
with recursive

people as (
    select * from {{ ref('stg_apollo__people') }}
),

first_seen as (
    select
        apollo_person_id,
        min(pulled_at) as first_pulled_at
    from people
    group by apollo_person_id
),

identity_keys as (
    select
        apollo_person_id,
        'email:' || email as identity_key,
        1 as key_rank
    from people
    where email is not null and not {{ is_role_email('email') }}
    union
    select
        apollo_person_id,
        'linkedin:' || linkedin_key as identity_key,
        2 as key_rank
    from people
    where linkedin_key is not null
),

key_anchors as (
    select
        identity_key,
        min(apollo_person_id) as anchor_id,
        min(key_rank) as key_rank
    from identity_keys
    group by identity_key
    having count(distinct apollo_person_id) > 1
),

links as (
    select
        identity_keys.apollo_person_id as from_id,
        key_anchors.anchor_id as to_id
    from identity_keys
    inner join key_anchors on identity_keys.identity_key = key_anchors.identity_key
    where identity_keys.apollo_person_id <> key_anchors.anchor_id
    union
    select
        key_anchors.anchor_id as from_id,
        identity_keys.apollo_person_id as to_id
    from identity_keys
    inner join key_anchors on identity_keys.identity_key = key_anchors.identity_key
    where identity_keys.apollo_person_id <> key_anchors.anchor_id
),

reachable (apollo_person_id, reached_id) as (
    select distinct
        apollo_person_id,
        apollo_person_id as reached_id
    from people
    union
    select
        reachable.apollo_person_id,
        links.to_id as reached_id
    from reachable
    inner join links on reachable.reached_id = links.from_id
),

components as (
    select
        reachable.apollo_person_id,
        (array_agg(
            reachable.reached_id
            order by first_seen.first_pulled_at nulls last, reachable.reached_id
        ))[1] as cluster_anchor_id
    from reachable
    inner join first_seen on reachable.reached_id = first_seen.apollo_person_id
    group by reachable.apollo_person_id
),

cluster_basis as (
    select
        components.cluster_anchor_id,
        min(key_anchors.key_rank) as key_rank
    from components
    inner join identity_keys on components.apollo_person_id = identity_keys.apollo_person_id
    inner join key_anchors on identity_keys.identity_key = key_anchors.identity_key
    group by components.cluster_anchor_id
),

final as (
    select
        people.*,
        {{ cis_uuid(["'lead'", 'components.cluster_anchor_id']) }} as lead_id,
        case cluster_basis.key_rank
            when 1 then 'email'
            when 2 then 'linkedin_url'
            else 'apollo_id'
        end as identity_basis
    from people
    inner join components on people.apollo_person_id = components.apollo_person_id
    left join cluster_basis on components.cluster_anchor_id = cluster_basis.cluster_anchor_id
)

select * from final
