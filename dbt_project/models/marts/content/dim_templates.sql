{{
  config(
    materialized='table',
    indexes=[
      {'columns': ['template_id'], 'unique': True},
      {'columns': ['provider', 'campaign_id', 'step_id']},
      {'columns': ['client_id']},
    ],
    post_hook=["{{ client_row_security('client_id') }}"]
  )
}}
{#-
    Each template: one variant of one step of one campaign (a step without variants is its own
    template), with the features a copywriter asks about (docs/content.md): lengths, a question in
    the subject, personalization tokens, links and the kind of call to action.
-#}
with

smartlead as (
    select * from {{ ref('stg_smartlead__sequence_variants') }}
),

salesforge as (
    select * from {{ ref('stg_salesforge__sequence_variants') }}
),

client_campaigns as (
    select * from {{ ref('stg_cis__client_campaigns') }}
),

variants as (
    select * from smartlead
    union all
    select * from salesforge
),

texts as (
    select
        *,
        coalesce(subject_template, '') as subject_text,
        {{ html_to_text('body_template') }} as body_text
    from variants
),

features as (
    select
        texts.*,
        array(
            select distinct coalesce(token[1], token[2])
            from
                regexp_matches(
                    texts.subject_text || ' ' || coalesce(texts.body_template, ''),
                    '\{\{\s*([A-Za-z0-9_.]+)\s*\}\}|%([A-Za-z_]+)%',
                    'g'
                ) as token
            order by 1
        ) as personalization_tokens,
        regexp_count(coalesce(texts.body_template, ''), 'https?://') as link_count
    from texts
),

final as (
    select
        {{ cis_uuid(["'template'", 'features.provider', 'features.campaign_id', 'features.step_id', 'features.variant_id']) }}
            as template_id,
        features.provider,
        client_campaigns.client_id,
        features.campaign_id,
        features.campaign_name,
        features.channel,
        features.step_id,
        features.step_number,
        dense_rank() over (
            partition by features.provider, features.campaign_id, features.channel
            order by features.step_number
        )::integer as channel_step_number,
        features.delay_days,
        features.variant_id,
        features.variant_label,
        features.split_percent,
        features.is_deleted,
        features.is_enabled,
        features.subject_template,
        features.body_template,
        features.body_text,
        features.step_number > 1 and features.subject_text = '' as is_threaded_follow_up,
        char_length(features.subject_text) as subject_length,
        features.subject_text like '%?%' as subject_has_question,
        coalesce(array_length(regexp_split_to_array(nullif(features.body_text, ''), ' '), 1), 0)
            as body_word_count,
        features.personalization_tokens,
        cardinality(features.personalization_tokens) as personalization_count,
        features.link_count,
        case
            when features.body_text ~* '\m(call|chat|meeting|demo|calendar|book a|[0-9]+[- ]minute)'
                then 'meeting'
            when features.body_text ~* '\m(reply|let me know|thoughts|interested|worth a look)'
                then 'reply'
            when features.link_count > 0 then 'link'
            else 'none'
        end as call_to_action
    from features
    left join client_campaigns
        on features.provider = client_campaigns.vendor and features.campaign_id = client_campaigns.campaign_id
)

select * from final
