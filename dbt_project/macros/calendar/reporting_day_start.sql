{% macro reporting_day_start(date_expression) -%}
    (({{ date_expression }})::timestamp at time zone '{{ var("reporting_timezone") }}')
{%- endmacro %}
