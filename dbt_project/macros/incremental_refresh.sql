{#-
    Incremental builds of the event models (docs/engagement.md, "Incremental builds").

    Every incremental model records, in `intermediate.incremental_state`, the loads it has read
    (those registered in stg_dlt__event_loads up to its last run) and the version of the inputs
    it cannot scope (for staging: deletions from the raw tables and the deletion requests; for
    the person-scoped models: the pool's contact points, time zones, the clients' campaigns, the
    templates). A run reads only what is new; when a version changed it recomputes everything.
    The rows a run recomputes are replaced in the same transaction as the insert (deleted first
    by a load-scoped model's pre-hook; compared row by row by the person-scoped models'
    `scoped_diff` strategy), so a row that no longer follows from the inputs goes too.
-#}

{% macro incremental_state_table() -%}
    intermediate.incremental_state
{%- endmacro %}

{#- What an incremental model's state was built with: an md5 of its SQL file (config included). -#}
{% macro definition_hash(node) -%}
    {{ return(local_md5(node.raw_code)) }}
{%- endmacro %}

{#-
    on-run-start, for the models this build selects: one whose SQL file changed since its state
    was recorded (an upgrade; a state from before definitions were recorded counts as changed)
    is dropped and its state deleted, so this build rebuilds it from scratch (its rows followed
    the old SQL, and new columns would stop dbt) and the person-scoped models recompute everyone
    ("no state: <model>").
-#}
{% macro rebuild_changed_definitions() -%}
    {%- do run_query(
        "alter table " ~ incremental_state_table() ~ " add column if not exists definition_hash text"
    ) -%}
    {%- set recorded = {} -%}
    {%- for row in run_query("select model_name, definition_hash from " ~ incremental_state_table()).rows -%}
        {%- do recorded.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.materialized == 'incremental' -%}
        {%- if node.unique_id in selected_resources and node.alias in recorded
            and recorded[node.alias] != definition_hash(node) -%}
            {%- set built = adapter.get_relation(target.database, node.schema, node.alias) -%}
            {%- if built is not none -%}
                {%- do log("rebuilding " ~ node.alias ~ " from scratch: its SQL changed", info=true) -%}
                {%- do adapter.drop_relation(built) -%}
            {%- endif -%}
            {%- do run_query(
                "delete from " ~ incremental_state_table() ~ " where model_name = '" ~ node.alias ~ "'"
            ) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- on-run-start: the state table (the transformer owns it, beside the intermediate models). -#}
{% macro create_incremental_state() -%}
    {%- set state = adapter.get_relation(target.database, 'intermediate', 'incremental_state') if execute else none -%}
    {%- if execute and state is not none -%}
        {%- do rebuild_changed_definitions() -%}
    {%- endif -%}
    {#- The first build that keeps state: tables an earlier version built in place of the
        incremental models have other columns, and are built again from scratch. -#}
    {%- if execute and state is none -%}
        {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.config.materialized == 'incremental' -%}
            {%- set built = adapter.get_relation(target.database, node.schema, node.alias) -%}
            {%- if built is not none and built.is_table -%}
                {%- do adapter.drop_relation(built) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif %}
    create schema if not exists intermediate;
    create table if not exists {{ incremental_state_table() }} (
        model_name text primary key,
        loads_seen_through timestamptz not null,
        inputs_version text not null,
        refreshed_at timestamptz not null,
        definition_hash text
    );
    -- The staging models' version taken before they read, and when each last read everything.
    alter table {{ incremental_state_table() }}
        add column if not exists pending_version text,
        add column if not exists full_read_at timestamptz
{%- endmacro %}

{#- This model's state row as (loads_seen_through, inputs_version, refreshed_at), or none. -#}
{% macro incremental_state() -%}
    {%- if not execute -%}{{ return(none) }}{%- endif -%}
    {%- set result = run_query(
        "select loads_seen_through::text, inputs_version, refreshed_at::text from " ~ incremental_state_table()
        ~ " where model_name = '" ~ this.identifier ~ "'"
    ) -%}
    {{ return(result.rows[0] if result.rows | length > 0 else none) }}
{%- endmacro %}

{#- post-hook: the loads registered so far are read, with the inputs of `inputs_version`. -#}
{% macro record_refresh(inputs_version) -%}
    insert into {{ incremental_state_table() }} as state
        (model_name, loads_seen_through, inputs_version, refreshed_at, definition_hash)
    select
        '{{ this.identifier }}',
        coalesce(max(seen_at), '-infinity'::timestamptz),
        '{{ inputs_version }}',
        clock_timestamp(),
        '{{ definition_hash(model) }}'
    from {{ ref('stg_dlt__event_loads') }}
    on conflict (model_name) do update set
        loads_seen_through = excluded.loads_seen_through,
        inputs_version = excluded.inputs_version,
        refreshed_at = excluded.refreshed_at,
        definition_hash = excluded.definition_hash
{%- endmacro %}

{#-
    A staging model's version of its raw table: the raw rows of the loads registered up to
    `through` (a SQL timestamptz; all registered loads when none), and the deletion requests
    recorded. Rows of a registered load never grow (dlt writes each load once), so a count that
    fell means rows the model has staged were deleted (a file read again with --reload, the copies
    a crashed load left removed by the next one); a new deletion request means events were
    scrubbed in place. Either makes the model read its whole raw table again.
-#}
{% macro raw_version_sql(source_name, table_name, through=none) -%}
    {%- set src = source(source_name, table_name) -%}
    {%- set relation = adapter.get_relation(src.database, src.schema, src.identifier) if execute else none -%}
    {%- set through_filter = ' where seen_at <= ' ~ through if through is not none else '' %}
    {%- set raw_count = "(select count(*) from " ~ src ~ " where _dlt_load_id in (select load_id from "
        ~ ref('stg_dlt__event_loads') ~ through_filter ~ "))::text" if relation is not none else "'0'" %}
    select
        {{ raw_count }} || '/'
        || (select count(*) || ':' || coalesce(max(created_at)::text, '') from cis.suppression_keys)
{%- endmacro %}

{#-
    pre-hook of a load-scoped staging model: its raw version before it reads (kept as
    `pending_version` until the post-hook makes it the model's version). Taken before the read,
    a deletion that commits while the model runs is seen by the next build.
-#}
{% macro stash_raw_version(source_name, table_name) -%}
    insert into {{ incremental_state_table() }} as state
        (model_name, loads_seen_through, inputs_version, refreshed_at, pending_version)
    select '{{ this.identifier }}', '-infinity', '', clock_timestamp(), ({{ raw_version_sql(source_name, table_name) }})
    on conflict (model_name) do update set pending_version = excluded.pending_version
{%- endmacro %}

{#- post-hook of a load-scoped staging model: the loads read, the version stashed before the read. -#}
{% macro record_staged_refresh(source_name, table_name) -%}
    update {{ incremental_state_table() }} as state set
        loads_seen_through = coalesce((select max(seen_at) from {{ ref('stg_dlt__event_loads') }}), '-infinity'),
        inputs_version = pending_version,
        pending_version = null,
        refreshed_at = clock_timestamp(),
        definition_hash = '{{ definition_hash(model) }}',
        full_read_at = {{ "full_read_at" if staged_load_scope(source_name, table_name) is not none else "'" ~ run_started_at ~ "'::timestamptz" }}
    where model_name = '{{ this.identifier }}'
{%- endmacro %}

{#-
    The loads a load-scoped staging model reads this run: a list of load ids, or none when it
    reads everything (not built yet, --full-refresh, no state, or its raw table changed).
-#}
{% macro staged_load_scope(source_name, table_name) -%}
    {%- if not execute or this is none or not is_incremental() -%}{{ return(none) }}{%- endif -%}
    {%- set state = incremental_state() -%}
    {%- if state is none -%}{{ return(none) }}{%- endif -%}
    {%- set version = run_query(raw_version_sql(source_name, table_name, "'" ~ state[0] ~ "'::timestamptz")) -%}
    {%- if state[1] != version.rows[0][0] -%}{{ return(none) }}{%- endif -%}
    {%- set result = run_query(
        "select load_id from " ~ ref('stg_dlt__event_loads')
        ~ " where seen_at > '" ~ state[0] ~ "'::timestamptz order by load_id"
    ) -%}
    {{ return(result.columns[0].values() | list) }}
{%- endmacro %}

{#- `column in (the loads)` for a load-scoped model's scope (`true` when it reads everything). -#}
{% macro in_load_scope(column, scope) -%}
    {%- if scope is none -%}
        true
    {%- elif scope | length == 0 -%}
        false
    {%- else -%}
        {{ column }} in ({% for load_id in scope %}'{{ load_id }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- pre-hook of a load-scoped model: delete the rows of the loads it reads again. -#}
{% macro clear_load_scope(source_name, table_name, column='load_id') -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ in_load_scope(column, staged_load_scope(source_name, table_name)) }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#-
    Person-scoped models: whether this run recomputes every person (the model is not built
    yet, --full-refresh, or int_engagement_refresh says an input it cannot scope changed).
-#}
{% macro person_scope_is_full() -%}
    {%- if not execute or this is none or not is_incremental() -%}{{ return(true) }}{%- endif -%}
    {%- set decisions = run_decisions() -%}
    {%- set key = 'person_scope_is_full:' ~ this -%}
    {%- if key not in decisions -%}
        {%- set state = incremental_state() -%}
        {%- set result = run_query("select is_full, inputs_version from " ~ ref('int_engagement_refresh')) -%}
        {%- do decisions.update({key: state is none or result.rows | length == 0
            or result.rows[0][0] or state[1] != result.rows[0][1]}) -%}
    {%- endif -%}
    {{ return(decisions[key]) }}
{%- endmacro %}

{#-
    What this build decided about each model, taken once per model and build: a model asks
    whether it recomputes everyone a dozen times (each scope filter, the hooks, the strategy),
    and its own post-hook changes the state the answer is read from. Kept in the run's graph,
    the one object every node of a build shares.
-#}
{% macro run_decisions() -%}
    {%- if graph.get('cis_run_decisions', {}).get('invocation_id') != invocation_id -%}
        {%- do graph.update({'cis_run_decisions': {'invocation_id': invocation_id}}) -%}
    {%- endif -%}
    {{ return(graph['cis_run_decisions']) }}
{%- endmacro %}

{#- The version a person-scoped model records (int_engagement_refresh's). -#}
{% macro person_inputs_version() -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set result = run_query("select inputs_version from " ~ ref('int_engagement_refresh')) -%}
    {{ return(result.rows[0][0] if result.rows | length > 0 else '') }}
{%- endmacro %}

{#-
    `expression in (the people in scope of one kind)`: kind `email`, `linkedin` or `phone` (the
    contact's normalised value), `lead_id` (a uuid) or `recipient` (a lead id, or
    `kind:value` for a person the pool does not know, as fct_activities.recipient_ref). `true`
    when the run recomputes every person.
-#}
{% macro in_person_scope(expression, kind) -%}
    {%- if person_scope_is_full() -%}
        true
    {%- elif kind == 'lead_id' -%}
        {{ expression }} in (select scope_value::uuid from {{ ref('int_engagement_scope') }} where scope_kind = 'lead')
    {%- elif kind == 'recipient' -%}
        {{ expression }} in (
            select case when scope_kind = 'lead' then scope_value else scope_kind || ':' || scope_value end
            from {{ ref('int_engagement_scope') }}
        )
    {%- else -%}
        {{ expression }} in (select scope_value from {{ ref('int_engagement_scope') }} where scope_kind = '{{ kind }}')
    {%- endif -%}
{%- endmacro %}

{#-
    pre-hook of a person-scoped model: the rows of the people it recomputes. When it recomputes
    everyone they are deleted; otherwise they are set aside (where they are, and a hash of each)
    for the `scoped_diff` strategy, which replaces only the rows that came out different.
-#}
{% macro clear_person_scope(predicate) -%}
    {%- if not is_incremental() -%}
        select 1
    {%- elif person_scope_is_full() -%}
        delete from {{ this }}
    {%- else -%}
        create temporary table {{ scope_rows_table() }} on commit drop as
        {{ hashed_row_copies(this, adapter.get_columns_in_relation(this), predicate=predicate) }}
    {%- endif -%}
{%- endmacro %}

{#-
    pre-hook of a model keyed by a vendor id (`column`) that new loads can bring new versions
    of: delete the rows whose id (`raw_expression` over the raw rows) a new load names.
-#}
{% macro clear_key_scope(source_name, table_name, column, raw_expression) -%}
    {%- set scope = staged_load_scope(source_name, table_name) -%}
    {%- if not is_incremental() -%}
        select 1
    {%- elif scope is none -%}
        delete from {{ this }}
    {%- else -%}
        delete from {{ this }} where {{ column }} in (
            select {{ raw_expression }}
            from ({{ raw_event_rows(source_name, table_name) }}) as raw_rows
            where {{ in_load_scope('load_id', scope) }}
        )
    {%- endif -%}
{%- endmacro %}

{#-
    Whether an activity (or a reply to one) is about an address in scope, by its channel: an
    email by the address, a LinkedIn action by the profile, an SMS by the number.
-#}
{% macro activity_in_person_scope(channel, lead_key, contact_key) -%}
    (
        ({{ channel }} = 'email' and {{ in_person_scope(lead_key, 'email') }})
        or ({{ channel }} = 'linkedin' and {{ in_person_scope(contact_key, 'linkedin') }})
        or ({{ channel }} = 'sms' and {{ in_person_scope(contact_key, 'phone') }})
    )
{%- endmacro %}

{#-
    post-hook: fresh planner statistics for a table built from scratch (a just-built table has
    none, and a wrong guess can turn a join of seconds into minutes). An incremental run that
    changed a few rows leaves it to autovacuum: analysing a large table costs more than the run.
-#}
{% macro analyze_if_rebuilt() -%}
    {%- if not is_incremental() or (model.tags is defined and 'person_scoped' in model.tags and person_scope_is_full()) -%}
        analyze {{ this }}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}

{#-
    `expression in (column of the activities this build recomputes)`: the per-recipient and
    per-activity models follow int_recomputed_activities (`provider`, `activity_key`,
    `activity_id`, `recipient_ref`, `lead_id`). `true` when this run recomputes all.
-#}
{% macro in_refreshed_rows(expression, column) -%}
    {%- if person_scope_is_full() -%}
        true
    {%- else -%}
        {{ expression }} in (select {{ column }} from {{ ref('int_recomputed_activities') }})
    {%- endif -%}
{%- endmacro %}

{#-
    pre-hook of fct_activity_engagement: the activities int_activities recomputed, and those
    that no longer exist (fct_activities has already dropped them).
-#}
{% macro clear_activity_scope() -%}
    {{ clear_person_scope(
        in_refreshed_rows('activity_id', 'activity_id')
        ~ " or not exists (select 1 from " ~ ref('fct_activities') ~ " as kept where kept.activity_id = "
        ~ this ~ ".activity_id)"
    ) }}
{%- endmacro %}

{#-
    `expression in (the leads fct_contact_events recomputes)`: those a new load names (a bounce,
    an unsubscribe, a do-not-contact mark) and those whose activities int_activities recomputed.
-#}
{% macro in_contact_event_scope(expression) -%}
    {%- if person_scope_is_full() -%}
        true
    {%- else -%}
        {{ expression }} in (
            select scope_value::uuid from {{ ref('int_engagement_scope') }} where scope_kind = 'lead'
            union
            select lead_id from {{ ref('int_recomputed_activities') }} where lead_id is not null
        )
    {%- endif -%}
{%- endmacro %}

{#-
    post-hook of int_activities: planner statistics for `refreshed_at` after every run (the
    models after it select the rows it just recomputed, and a planner that thinks there are none
    picks nested loops over whole tables). Sampled from 3,000 rows: cheap on any size.
-#}
{% macro analyze_refreshed_at() -%}
    alter table {{ this }} alter column refreshed_at set statistics 10;
    analyze {{ this }} (refreshed_at)
{%- endmacro %}

{#- The names of the person-scoped models (tagged `person_scoped`). -#}
{% macro person_scoped_models() -%}
    {%- set found = namespace(names=[]) -%}
    {%- if execute -%}
        {%- for node in graph.nodes.values() -%}
            {%- if node.resource_type == 'model' and 'person_scoped' in node.tags -%}
                {%- set found.names = found.names + [node.name] -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found.names | sort) }}
{%- endmacro %}

{#-
    The version of a table dbt rebuilds whole (a table materialization swaps in a new table, so
    a new oid): a model built only from such tables recomputes when one was rebuilt, and costs
    nothing otherwise. '' when the relation does not exist.
-#}
{% macro rebuilt_table_version(relations) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set parts = [] -%}
    {%- for relation in relations -%}
        {%- do parts.append("coalesce(to_regclass('" ~ relation.include(database=false) ~ "')::oid::text, '')") -%}
    {%- endfor -%}
    {%- set result = run_query("select concat_ws(',', " ~ parts | join(', ') ~ ")") -%}
    {{ return(result.rows[0][0]) }}
{%- endmacro %}

{#- Whether a model built from rebuilt tables (`version` from rebuilt_table_version) must recompute. -#}
{% macro rebuilt_inputs_changed(version) -%}
    {%- if not execute or this is none or not is_incremental() -%}{{ return(true) }}{%- endif -%}
    {%- set state = incremental_state() -%}
    {{ return(state is none or state[1] != version) }}
{%- endmacro %}

{#-
    The loads int_engagement_scope reads (a list of load ids, as in_load_scope takes them): those
    since the least advanced person-scoped model last ran, none when the build recomputes
    everyone. Listed as literals, so that each staging table is read through its load_id index.
-#}
{% macro engagement_scope_loads() -%}
    {%- if not execute -%}{{ return([]) }}{%- endif -%}
    {%- set result = run_query(
        "select loads.load_id from " ~ ref('stg_dlt__event_loads') ~ " as loads cross join "
        ~ ref('int_engagement_refresh') ~ " as refresh"
        ~ " where loads.seen_at > refresh.scope_since and not refresh.is_full order by loads.load_id"
    ) -%}
    {{ return(result.columns[0].values() | list) }}
{%- endmacro %}
