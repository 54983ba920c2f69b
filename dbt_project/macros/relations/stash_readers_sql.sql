{% macro stash_readers_sql(relation) -%}
    create temporary table if not exists dbt_swapped_readers (
        relation_schema text not null,
        relation_name text not null,
        reader_schema text not null,
        reader_name text not null,
        options text not null,
        definition text not null
    ) on commit drop;

    insert into pg_temp.dbt_swapped_readers
    {{ reader_definitions_sql(relation) }}
{%- endmacro %}
