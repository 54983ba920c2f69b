{#-
    The typed rows of one Reporting API breakdown report family (traffic
    source, playback location, device/OS): channel_basic's columns with the
    family's own two coded dimensions in the middle, one row per report row.

    family: the family's raw table (source youtube_reporting).
    dimensions: its dimensions in report order, each a dict of name, raw
    (the type the lander declares) and typed (the staged SQL expression).
-#}
{% macro reporting_breakdown_rows(family, dimensions) -%}
with

source as (
    {{ landed_rows(source('youtube_reporting', family), {
        'report_id': 'text',
        'report_row': 'bigint',
        'report_type_id': 'text',
        'create_time': 'timestamptz',
        'date': 'date',
        'channel_id': 'text',
        'video_id': 'text',
        'live_or_on_demand': 'text',
        'subscribed_status': 'text',
        'country_code': 'text',
        dimensions[0].name: dimensions[0].raw,
        dimensions[1].name: dimensions[1].raw,
        'views': 'bigint',
        'engaged_views': 'bigint',
        'watch_time_minutes': 'double precision',
        'average_view_duration_seconds': 'bigint',
        'average_view_duration_percentage': 'double precision',
        'red_views': 'bigint',
        'red_watch_time_minutes': 'double precision'
    }) }}
),

final as (
    select
        report_id::text as report_id,
        report_row::integer as report_row,
        report_type_id::text as report_type_id,
        create_time::timestamptz as report_created_at,
        date::date as metric_date,
        channel_id::text as channel_id,
        -- YouTube's rows of the channel's deleted videos have an empty video_id
        nullif(video_id, '')::text as video_id,
        live_or_on_demand::text as live_or_on_demand,
        subscribed_status::text as subscribed_status,
        nullif(country_code, '')::text as country_code,
        {%- for dimension in dimensions %}
        {{ dimension.typed }} as {{ dimension.name }},
        {%- endfor %}
        coalesce(views, 0)::bigint as views,
        engaged_views::bigint as engaged_views,
        coalesce(watch_time_minutes, 0)::double precision as watch_time_minutes,
        average_view_duration_seconds::bigint as average_view_duration_seconds,
        average_view_duration_percentage::double precision as average_view_duration_pct,
        coalesce(red_views, 0)::bigint as red_views,
        coalesce(red_watch_time_minutes, 0)::double precision as red_watch_time_minutes
    from source
)

select * from final
{%- endmacro %}
