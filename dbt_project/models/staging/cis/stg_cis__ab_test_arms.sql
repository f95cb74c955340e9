{#- One row per arm of each declared A/B test, in the order the file gives them. -#}
with

source as (
    select * from {{ source('cis', 'ab_tests') }}
),

arms as (
    select
        source.test_key,
        arms.position::integer as arm_number,
        nullif(trim(arms.arm ->> 'label'), '') as variant_label,
        nullif(trim(arms.arm ->> 'variant_id'), '') as variant_id,
        arms.arm ->> 'description' as arm_description,
        (arms.arm ->> 'split')::numeric as planned_split_percent
    from source
    cross join lateral jsonb_array_elements(source.variants) with ordinality as arms (arm, position)
)

select * from arms
