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
