{#-
    The clock of the thread statuses and the threads a build of fct_conversation_threads
    recomputes (docs/threads.md, "Status and outcome").
-#}

{#-
    The time statuses are computed against: the build's start, or the `threads_as_of` var (a
    timestamp) to ask what they were or will be at another time.
-#}
{% macro threads_as_of() -%}
    '{{ var('threads_as_of', none) or run_started_at }}'::timestamptz
{%- endmacro %}

{#-
    The threads of fct_conversation_threads the clock moved since their row was written: active
    ones 14 days past their last message, stale ones 30, and any written after the time asked
    (a status only moves forward with the clock, so a row holds for every later time until
    then).
-#}
{% macro threads_moved_by_clock() -%}
    select thread_id from {{ this }}
    where
        status_as_of > {{ threads_as_of() }}
        or (status = 'active' and last_message_at < {{ threads_as_of() }} - interval '14 days')
        or (status = 'stale' and last_message_at < {{ threads_as_of() }} - interval '30 days')
{%- endmacro %}

{#-
    Whether a thread's message, reply or row is recomputed this build: its person is in scope
    (the person-scoped models' rule), or the clock moved its thread. `true` when the build
    recomputes everyone.
-#}
{% macro thread_in_scope() -%}
    {%- if person_scope_is_full() -%}
        true
    {%- else -%}
    (
    {{ activity_in_person_scope('channel', 'lead_key', 'contact_key') }}
        or thread_id in ({{ threads_moved_by_clock() }})
    )
    {%- endif -%}
{%- endmacro %}
