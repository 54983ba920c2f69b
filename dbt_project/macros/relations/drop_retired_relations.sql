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
        select
            retired.oid::regclass::text,
            string_agg(readers.reader::text, ', ' order by readers.reader::text),
            string_agg(readers.reader::text, ', ' order by readers.reader::text)
                filter (where reader_class.relkind = 'v')
        from ({{ retired }}) as retired
        cross join lateral ({{ readers_sql('retired.oid') }}) as readers
        inner join pg_class as reader_class on readers.reader = reader_class.oid
        where strpos(reader_class.relname, '__dbt_') = 0
        group by retired.oid
    {%- endset -%}
    {%- for row in run_query(still_read) -%}
        {%- if row[2] -%}
            {{ exceptions.warn(
                row[2] ~ ' still read the retired ' ~ row[0] ~ ': their build in this run '
                ~ 'failed or was skipped, and they serve its old rows until they are built. '
                ~ 'Next: dbt run -s <model> for each, once its parents build.'
            ) }}
        {%- endif -%}
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
