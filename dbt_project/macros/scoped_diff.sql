{#-
    The `scoped_diff` incremental strategy of the person-scoped models (docs/engagement.md,
    "Only rows that changed are written"): clear_person_scope (incremental_refresh.sql) sets the
    rows in scope aside with their hashes; the strategy writes only what changed.
-#}

{#-
    A row's two hashes for the `scoped_diff` strategy (`row_hash`, `row_check`: 128 bits in all,
    hashed from the columns' binary values, so two rows hash alike when every column is equal
    by PostgreSQL's equality): every column but those of the model's `diff_ignore` config
    (int_activities' `refreshed_at`: a row that came out the same keeps the stamp of the build
    that last changed it). About three times as fast as an md5 of the row's text.
-#}
{% macro diff_row_hashes(relation, columns) -%}
    {%- set ignored = config.get('diff_ignore', []) -%}
    {%- set compared = [] -%}
    {%- for column in columns if column.name not in ignored -%}
        {%- do compared.append(relation ~ '.' ~ adapter.quote(column.name)) -%}
    {%- endfor -%}
    hash_record_extended(row({{ compared | join(', ') }}), 0) as row_hash,
    hash_record_extended(row({{ compared | join(', ') }}), 1) as row_check
{%- endmacro %}

{#-
    The rows of `relation` (aliased `alias` when given; a predicate may name the relation
    itself) where `predicate` holds, each as where it is (`row_ctid`), its hashes and its copy
    number among identical rows (`row_copy`): identical rows are matched copy by copy, so they
    count as often as they occur.
-#}
{% macro hashed_row_copies(relation, columns, alias=none, predicate='true') -%}
    {%- set qualifier = alias if alias else relation -%}
    select
        row_ctid,
        row_hash,
        row_check,
        row_number() over (partition by row_hash, row_check) as row_copy
    from (
        select {{ qualifier }}.ctid as row_ctid, {{ diff_row_hashes(qualifier, columns) }}
        from {{ relation }}{{ ' as ' ~ alias if alias }}
        where {{ predicate }}
    ) as hashed
{%- endmacro %}

{#- The rows of the people a person-scoped model recomputes this run (clear_person_scope). -#}
{% macro scope_rows_table() -%}
    {{ this.identifier }}__scope_rows
{%- endmacro %}

{#-
    The `scoped_diff` incremental strategy of the person-scoped models: the rows recomputed
    (the temporary relation) against the rows they replace (clear_person_scope set them aside).
    A row that came out the same stays where it is; one that changed or went is deleted; a new
    or changed one is inserted. Identical rows are matched copy by copy (`row_copy`), so the
    table ends exactly as if every row set aside had been deleted and every row recomputed
    inserted, but a late event rewrites a few rows, not every row of its person (each write
    maintains every index of the table).
-#}
{% macro get_incremental_scoped_diff_sql(arg_dict) -%}
    {%- set target_relation = arg_dict['target_relation'] -%}
    {%- set temp_relation = arg_dict['temp_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set fresh_rows = this.identifier ~ '__fresh_rows' -%}
    {%- if person_scope_is_full() -%}
        insert into {{ target_relation }} ({{ columns }})
        select {{ columns }} from {{ temp_relation }}
    {%- else -%}
        create temporary table {{ fresh_rows }} on commit drop as
        {{ hashed_row_copies(temp_relation, arg_dict['dest_columns'], alias='fresh') }};
        delete from {{ target_relation }}
        where ctid = any(array(
            select kept.row_ctid
            from {{ scope_rows_table() }} as kept
            where not exists (
                select 1 from {{ fresh_rows }} as fresh
                where
                    fresh.row_hash = kept.row_hash
                    and fresh.row_check = kept.row_check
                    and fresh.row_copy = kept.row_copy
            )
        ));
        insert into {{ target_relation }} ({{ columns }})
        select {{ columns }}
        from {{ temp_relation }}
        where ctid = any(array(
            select fresh.row_ctid
            from {{ fresh_rows }} as fresh
            where not exists (
                select 1 from {{ scope_rows_table() }} as kept
                where
                    kept.row_hash = fresh.row_hash
                    and kept.row_check = fresh.row_check
                    and kept.row_copy = fresh.row_copy
            )
        ))
    {%- endif -%}
{%- endmacro %}
