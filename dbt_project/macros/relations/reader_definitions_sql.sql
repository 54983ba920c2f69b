{% macro reader_definitions_sql(relation) -%}
    {%- set name = relation.include(database=false).render() -%}
    select
        {{ dbt.string_literal(relation.schema) }} as relation_schema,
        {{ dbt.string_literal(relation.identifier) }} as relation_name,
        reader_namespace.nspname as reader_schema,
        reader_class.relname as reader_name,
        coalesce(' with (' || array_to_string(reader_class.reloptions, ', ') || ')', '')
            as options,
        regexp_replace(pg_get_viewdef(reader_class.oid), ';\s*$', '') as definition
    from ({{ readers_sql('to_regclass(' ~ dbt.string_literal(name) ~ ')') }}) as readers
    inner join pg_class as reader_class on readers.reader = reader_class.oid
    inner join pg_namespace as reader_namespace
        on reader_class.relnamespace = reader_namespace.oid
    where
        reader_class.relkind = 'v'
        and strpos(reader_class.relname, '__dbt_') = 0
{%- endmacro %}
