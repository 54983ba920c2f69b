{#
    A build never drops a relation that analysts' views still read
    (dbt_project/README.md, "Analyst views survive failed builds").

    dbt replaces a table on a full refresh by building the new one under a
    temporary name, swapping the names, and then dropping the old one with
    CASCADE, which drops every materialized view that reads it: when a test
    then fails and the views' own builds are skipped, analysts get "relation
    does not exist". Here a relation that a materialized view still reads is
    renamed `<name>__dbt_retired_<run>` instead: the views keep their rows
    until their own builds replace them, and `drop_retired_relations` (on
    run end) drops each retired relation nobody reads any more. A relation
    read only by plain views is dropped as dbt does: they hold no rows, and
    dbt rebuilds them in the same run.
#}
{% macro postgres__drop_relation(relation) -%}
    {%- set readers = relation_readers(relation) -%}
    {%- if readers | selectattr(1, 'equalto', 'm') | list -%}
        {%- set retired = relation.identifier.replace('__dbt_backup', '')[:40] ~ '__dbt_retired_'
            ~ invocation_id.replace('-', '')[:8] -%}
        {{ log(
            'Keeping ' ~ relation ~ ' as ' ~ retired ~ ': still read by '
            ~ readers | map(attribute=0) | join(', ')
            ~ ' until their own builds replace them',
            info=true,
        ) }}
        {% call statement('retire_relation', auto_begin=False) -%}
            alter table {{ relation }} rename to {{ adapter.quote(retired) }}
        {%- endcall %}
    {%- else -%}
        {% call statement('drop_relation', auto_begin=False) -%}
            {{ get_drop_sql(relation) }}
        {%- endcall %}
    {%- endif -%}
{%- endmacro %}

{#-
    The views and materialized views that read `relation`, as (name, relkind)
    pairs ('v' or 'm'); none if it does not exist.
-#}
{% macro relation_readers(relation) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set name = relation.include(database=false).render() -%}
    {#- auto_begin=False, as dbt's own drop: this opens no transaction of dbt's. -#}
    {%- call statement('relation_readers', fetch_result=true, auto_begin=false) -%}
        select readers.reader::text, reader_class.relkind::text
        from ({{ readers_sql('to_regclass(' ~ dbt.string_literal(name) ~ ')') }}) as readers
        inner join pg_class as reader_class on readers.reader = reader_class.oid
        order by 1
    {%- endcall -%}
    {{ return(load_result('relation_readers').table.rows | map('list') | list) }}
{%- endmacro %}

{#-
    `relation` as the catalog has it now, or none: dbt's relation cache
    forgets the readers of a relation it drops, and a retired one keeps them.
-#}
{% macro relation_in_catalog(relation) -%}
    {%- set query -%}
        select relkind::text from pg_class
        where oid = to_regclass({{
            dbt.string_literal(relation.include(database=false).render())
        }})
    {%- endset -%}
    {%- set kinds = run_query(query).columns[0].values() -%}
    {%- if not kinds -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set types = {'r': 'table', 'p': 'table', 'v': 'view', 'm': 'materialized_view'} -%}
    {{ return(relation.incorporate(type=types[kinds[0]])) }}
{%- endmacro %}

{#- The regclass of each view or materialized view reading the relation `oid`. -#}
{% macro readers_sql(oid) -%}
    select distinct view_rule.ev_class::regclass as reader
    from pg_depend as dependency
    inner join pg_rewrite as view_rule on dependency.objid = view_rule.oid
    where
        dependency.classid = 'pg_rewrite'::regclass
        and dependency.refclassid = 'pg_class'::regclass
        and dependency.refobjid = {{ oid }}
        and view_rule.ev_class <> dependency.refobjid
{%- endmacro %}

{#
    On run end (a hook's SQL): drop every retired relation of the project's
    schemas that no view reads any more, over and over, since a retired view
    may be what kept another retired relation. Those still read are named in
    the log: their readers' builds did not run or failed, and the next build
    that replaces the readers frees them.
#}
{% macro drop_retired_relations() -%}
    {%- if not execute or flags.WHICH not in ['run', 'build'] -%}
        {{ return('') }}
    {%- endif -%}
    {%- set schemas = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | map(attribute='schema') | unique | list -%}
    {%- set retired -%}
        select
            relation.oid,
            case relation.relkind
                when 'v' then 'view' when 'm' then 'materialized view' else 'table'
            end as kind
        from pg_class as relation
        inner join pg_namespace as namespace on relation.relnamespace = namespace.oid
        where
            namespace.nspname in (
                {%- for schema in schemas %}
                {{ dbt.string_literal(schema) }}{{ ',' if not loop.last }}
                {%- endfor %}
            )
            and relation.relname like '%\_\_dbt\_retired\_%'
            and relation.relkind in ('r', 'p', 'v', 'm')
    {%- endset -%}
    {%- set still_read -%}
        select retired.oid::regclass::text, string_agg(readers.reader::text, ', ')
        from ({{ retired }}) as retired
        cross join lateral ({{ readers_sql('retired.oid') }}) as readers
        where readers.reader::text not like '%\_\_dbt\_retired\_%'
        group by retired.oid
    {%- endset -%}
    {%- for row in run_query(still_read) -%}
        {{ log(
            'Kept ' ~ row[0] ~ ' (retired): still read by ' ~ row[1]
            ~ '. Next: build those models (dbt build -s <model>) to free it.',
            info=true,
        ) }}
    {%- endfor -%}
    do $retire$
    declare
        unread record;
        freed boolean := true;
    begin
        while freed loop
            freed := false;
            for unread in
                select retired.oid::regclass as name, retired.kind
                from ({{ retired }}) as retired
                where not exists ({{ readers_sql('retired.oid') }})
            loop
                execute format('drop %s %s', unread.kind, unread.name);
                freed := true;
            end loop;
        end loop;
    end
    $retire$;
    commit;
{%- endmacro %}
