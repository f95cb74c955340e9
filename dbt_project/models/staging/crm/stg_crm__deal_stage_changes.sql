{#-
    Every stage change of the standalone-CRM files: one row per deal, stage and time (the same
    change in two exports is one row).
-#}
with

changes as (
    {{ latest_snapshots('crm', 'deal_stage_changes') }}
),

renamed as (
    select
        campaign_id as stage_change_id,
        {{ nullif_blank("payload ->> 'deal_id'") }} as deal_id,
        {{ nullif_blank("payload ->> 'pipeline'") }} as pipeline_id,
        {{ nullif_blank("payload ->> 'stage'") }} as stage,
        {{ event_time("payload ->> 'changed_at'") }} as changed_at,
        {{ nullif_blank("payload ->> 'changed_by'") }} as changed_by
    from changes
)

select * from renamed
