{% macro built_at() -%}
    now()
{%- endmacro %}
