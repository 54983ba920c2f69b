{% macro plain_description(description, for_analysts=true) -%}
    {%- if for_analysts -%}
        {%- set description = modules.re.sub('\\s*\\[dbt:[^\\]]*\\]', '', description) -%}
    {%- endif -%}
    {{- modules.re.sub('\\s+', ' ', description) | trim -}}
{%- endmacro %}
