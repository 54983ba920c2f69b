{% macro to_reporting_date(timestamp_column) -%}
    ({{ timestamp_column }} at time zone '{{ var("reporting_timezone") }}')::date
{%- endmacro %}
