{% macro engagement_rate(likes, comments, shares, views) -%}
    case
        when {{ views }} > 0
            then round(
                ({{ likes }} + {{ comments }} + {{ shares }})::numeric
                / {{ views }} * 100,
                2
            )
        else 0
    end
{%- endmacro %}
