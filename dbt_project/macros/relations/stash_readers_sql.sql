{% macro stash_readers_sql(relation) -%}
    {%- set name = relation.include(database=false).render() -%}
    create temporary table if not exists dbt_swapped_readers (
        relation_schema text not null,
        relation_name text not null,
        reader_schema text not null,
        reader_name text not null,
        reader_options text not null,
        reader_definition text not null
    ) on commit drop;

    insert into pg_temp.dbt_swapped_readers
    select
        {{ dbt.string_literal(relation.schema) }},
        {{ dbt.string_literal(relation.identifier) }},
        readers.reader_schema,
        readers.reader_name,
        readers.reader_options,
        readers.reader_definition
    from (
        {{ reader_definitions_sql('to_regclass(' ~ dbt.string_literal(name) ~ ')') }}
    ) as readers
    where readers.reader_kind = 'view'
{%- endmacro %}
