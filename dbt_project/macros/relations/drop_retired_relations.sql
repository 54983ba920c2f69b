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
