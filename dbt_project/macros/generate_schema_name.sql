{#
    Custom schemas are used verbatim (staging, intermediate, marts, snapshots,
    seeds): they are created and granted by sql/10_schemas.sql, so dbt must not
    prefix them with the target schema. Models without one go to the target's.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
