{% macro duration_status(duration_seconds, live_broadcast_content) -%}
    case
        when {{ live_broadcast_content }} in ('live', 'upcoming')
            then {{ live_broadcast_content }}
        when {{ duration_seconds }} is null then 'unknown'
        when {{ duration_seconds }} < {{ var('video_duration_min_seconds') }}
            then 'short'
        when {{ duration_seconds }} > {{ var('video_duration_max_seconds') }}
            then 'long'
        else 'in_range'
    end
{%- endmacro %}
