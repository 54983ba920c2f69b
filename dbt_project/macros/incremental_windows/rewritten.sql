{% macro rewritten(date_expression, window_start, late_days) -%}
    ({{ date_expression }} >= {{ window_start }}
    or {{ date_expression }} = any({{ late_days }}))
{%- endmacro %}
