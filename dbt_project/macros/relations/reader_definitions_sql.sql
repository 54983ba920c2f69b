{% macro reader_definitions_sql(oid) -%}
    select
        reader_namespace.nspname as reader_schema,
        reader_class.relname as reader_name,
        case reader_class.relkind
            when 'm' then 'materialized view' else 'view'
        end as reader_kind,
        coalesce(' with (' || array_to_string(reader_class.reloptions, ', ') || ')', '')
            as reader_options,
        regexp_replace(pg_get_viewdef(reader_class.oid), ';\s*$', '') as reader_definition
    from ({{ readers_sql(oid) }}) as readers
    inner join pg_class as reader_class on readers.reader = reader_class.oid
    inner join pg_namespace as reader_namespace
        on reader_class.relnamespace = reader_namespace.oid
    where strpos(reader_class.relname, '__dbt_') = 0
{%- endmacro %}
