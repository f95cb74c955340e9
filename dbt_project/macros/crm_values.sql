{#-
    CRM values in one form whichever CRM (or CSV file) wrote them: docs/crm.md.
-#}

{#- A meeting outcome as HubSpot's documented values in lower case (scheduled, completed,
    rescheduled, no_show, canceled), whatever the spelling ("NO SHOW", "Cancelled"); null
    outside the set (the text is kept beside it). -#}
{% macro meeting_outcome(text) -%}
    case regexp_replace(upper(trim({{ text }})), '[\s-]+', '_', 'g')
        when 'SCHEDULED' then 'scheduled'
        when 'COMPLETED' then 'completed'
        when 'HELD' then 'completed'
        when 'RESCHEDULED' then 'rescheduled'
        when 'NO_SHOW' then 'no_show'
        when 'NOSHOW' then 'no_show'
        when 'CANCELED' then 'canceled'
        when 'CANCELLED' then 'canceled'
    end
{%- endmacro %}

{#- Why a deal was lost, in the fixed set fct_deals carries, from the CRM's free text: the set's
    own names first, then the words sales teams write; any other text is 'other'. Null for no
    text. The order matters: "chose a cheaper competitor" is a competitor loss. -#}
{% macro deal_lost_reason(text) -%}
    case
        when nullif(trim({{ text }}), '') is null then null
        when lower(trim({{ text }})) in (
            'price_too_high', 'chose_competitor', 'no_budget', 'timing_not_right', 'no_decision',
            'champion_left', 'project_cancelled', 'went_silent', 'bad_fit', 'other'
        ) then lower(trim({{ text }}))
        when {{ text }} ~* 'competitor|went with|chose|another vendor|alternative' then 'chose_competitor'
        when {{ text }} ~* 'budget|funding|no money' then 'no_budget'
        when {{ text }} ~* 'champion|left the company|sponsor left|contact left' then 'champion_left'
        when {{ text }} ~* 'cancel|shelved|scrapped|dropped the project' then 'project_cancelled'
        when {{ text }} ~* 'silent|ghost|no response|unresponsive|stopped respond' then 'went_silent'
        when {{ text }} ~* 'no decision|undecided|status quo|stalled' then 'no_decision'
        when {{ text }} ~* 'timing|not now|next year|later|next quarter' then 'timing_not_right'
        when {{ text }} ~* 'price|pricing|expensive|cost' then 'price_too_high'
        when {{ text }} ~* 'fit|not qualified|requirement|not a match' then 'bad_fit'
        else 'other'
    end
{%- endmacro %}

{#- A website or domain as a bare domain: no scheme, www., path or port, lower case. -#}
{% macro web_domain(text) -%}
    nullif(regexp_replace(lower(trim({{ text }})), '^(https?://)?(www\.)?([^/?#:]*).*$', '\3'), '')
{%- endmacro %}

{#- The time the funnel marts measure open meetings, deals and stages against: the build's start,
    or the `funnel_as_of` var (a fixed time makes a build repeatable). -#}
{% macro funnel_as_of() -%}
    '{{ var('funnel_as_of', none) or run_started_at }}'::timestamptz
{%- endmacro %}

{#- The key of a person a standalone-CRM row names inline (no contact record of its own): the
    same person on a meeting row and a deal row has one key. -#}
{% macro csv_contact_key(email, linkedin_url, first_name, last_name, company_domain) -%}
    'csv:' || md5(concat_ws(
        '|',
        coalesce({{ email_key(email) }}, ''),
        coalesce({{ linkedin_key(linkedin_url) }}, ''),
        coalesce(lower(trim({{ first_name }})), ''),
        coalesce(lower(trim({{ last_name }})), ''),
        coalesce({{ company_domain }}, '')
    ))
{%- endmacro %}
