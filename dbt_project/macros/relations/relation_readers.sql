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
