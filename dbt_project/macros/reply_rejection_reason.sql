{#-
    Why a lead said no, in the fixed set dim_leads and fct_replies carry (docs/threads.md), from
    the reply analyzer's intent and objection: null for a reply that is not a no.
-#}
{% macro reply_rejection_reason(intent, objection_type) -%}
    case
        when {{ intent }} = 'unsubscribe' then 'do_not_contact'
        when {{ intent }} = 'wrong_person' then 'wrong_contact'
        when {{ intent }} = 'not_interested' then
            case {{ objection_type }}
                when 'pricing' then 'budget_constraints'
                when 'timing' then 'timing_not_now'
                when 'competitor' then 'using_competitor'
                when 'authority' then 'not_decision_maker'
                when 'no_need' then 'no_need'
                when 'trust' then 'bad_experience'
                else 'not_interested_generic'
            end
    end
{%- endmacro %}
