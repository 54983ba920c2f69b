-- The rows of the channels' channel_basic reports, typed, one per report row.
-- raw_youtube_reporting.channel_basic appears with the Reporting lander's
-- first load: until then this view reads no rows (macro landed_rows), and a
-- column an older report version lacks (engaged_views before _a3) reads null.
with

source as (
    {{ landed_rows(source('youtube_reporting', 'channel_basic'), {
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
        'views': 'bigint',
        'engaged_views': 'bigint',
        'watch_time_minutes': 'double precision',
        'average_view_duration_seconds': 'bigint',
        'average_view_duration_percentage': 'double precision',
        'red_views': 'bigint',
        'red_watch_time_minutes': 'double precision',
        'likes': 'bigint',
        'dislikes': 'bigint',
        'comments': 'bigint',
        'shares': 'bigint',
        'subscribers_gained': 'bigint',
        'subscribers_lost': 'bigint',
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
        -- YouTube's row of the channel's deleted videos has an empty video_id
        nullif(video_id, '')::text as video_id,
        live_or_on_demand::text as live_or_on_demand,
        subscribed_status::text as subscribed_status,
        nullif(country_code, '')::text as country_code,
        coalesce(views, 0)::bigint as views,
        engaged_views::bigint as engaged_views,
        coalesce(watch_time_minutes, 0)::double precision as watch_time_minutes,
        average_view_duration_seconds::bigint as average_view_duration_seconds,
        average_view_duration_percentage::double precision as average_view_duration_pct,
        coalesce(red_views, 0)::bigint as red_views,
        coalesce(red_watch_time_minutes, 0)::double precision as red_watch_time_minutes,
        coalesce(likes, 0)::bigint as likes,
        coalesce(dislikes, 0)::bigint as dislikes,
        coalesce(comments, 0)::bigint as comments,
        coalesce(shares, 0)::bigint as shares,
        coalesce(subscribers_gained, 0)::bigint as subscribers_gained,
        coalesce(subscribers_lost, 0)::bigint as subscribers_lost
    from source
)

select * from final
