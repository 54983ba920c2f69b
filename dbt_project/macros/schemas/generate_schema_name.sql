{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif custom_schema_name | trim == 'marts'
        and node.resource_type == 'model'
        and node.config.access != 'public' -%}
        {#-
            marts is the analyst's schema (sql/10_schemas.sql, 90_grants.sql):
            it holds the public models alone.
        -#}
        marts_internal
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
