{% macro unknown_inputs(conditions) -%}
    array_remove(array[
        {%- for name, unknown in conditions.items() %}
        case when {{ unknown }} then '{{ name }}' end{{ ',' if not loop.last }}
        {%- endfor %}
    ]::text[], null)
{%- endmacro %}
