{% macro video_starts_from_zero(when_unknown) -%}
    coalesce(
        (
            select videos.published_date
            from videos
            where videos.video_id = linked.video_id
        ) >= linked.collection_date - {{ var('new_entity_days') }},
        {{ when_unknown }}
    )
{%- endmacro %}
