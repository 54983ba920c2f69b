{% macro growth_rate(current_value, previous_value) -%}
    case
        when {{ current_value }} is null then null
        when {{ previous_value }} is null then 0
        when {{ previous_value }} = 0
            then case when {{ current_value }} > 0 then 100 else 0 end
        else round(
            ({{ current_value }} - {{ previous_value }})::numeric
            / {{ previous_value }} * 100,
            2
        )
    end
{%- endmacro %}
