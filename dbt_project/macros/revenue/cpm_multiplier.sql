{% macro cpm_multiplier(engagement_rate) -%}
    case
        when {{ engagement_rate }} > {{ var('cpm_high_engagement_rate') }}
            then {{ var('cpm_high_engagement_multiplier') }}
        when {{ engagement_rate }} > {{ var('cpm_mid_engagement_rate') }}
            then {{ var('cpm_mid_engagement_multiplier') }}
        else 1.0
    end::numeric
{%- endmacro %}
