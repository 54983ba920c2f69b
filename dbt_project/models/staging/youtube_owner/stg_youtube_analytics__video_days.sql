-- The videos' revenue per day as the Analytics API reports it (its top-videos
-- report, dimensions=video, one query per channel-day), in USD.
-- raw_youtube_analytics.video_days appears with the lander's first load of a
-- channel in the Partner Program: until then this view reads no rows.
with

source as (
    {{ landed_rows(source('youtube_analytics', 'video_days'), {
        'channel_id': 'text',
        'day': 'date',
        'video_id': 'text',
        'views': 'bigint',
        'engaged_views': 'bigint',
        'estimated_minutes_watched': 'bigint',
        'estimated_revenue': 'double precision',
        'estimated_ad_revenue': 'double precision',
        'gross_revenue': 'double precision',
        'estimated_red_partner_revenue': 'double precision',
        'cpm': 'double precision',
        'playback_based_cpm': 'double precision',
        'monetized_playbacks': 'bigint',
        'currency': 'text',
        'is_settled': 'boolean',
        'fetched_at': 'timestamptz',
    }) }}
),

final as (
    select
        video_id::text as video_id,
        day::date as metric_date,
        channel_id::text as channel_id,
        views::bigint as views,
        engaged_views::bigint as engaged_views,
        estimated_minutes_watched::bigint as estimated_minutes_watched,
        estimated_revenue::numeric(14, 4) as estimated_revenue_usd,
        estimated_ad_revenue::numeric(14, 4) as estimated_ad_revenue_usd,
        gross_revenue::numeric(14, 4) as gross_revenue_usd,
        estimated_red_partner_revenue::numeric(14, 4)
            as estimated_red_partner_revenue_usd,
        cpm::numeric(12, 4) as cpm_usd,
        playback_based_cpm::numeric(12, 4) as playback_based_cpm_usd,
        monetized_playbacks::bigint as monetized_playbacks,
        currency::text as currency,
        is_settled::boolean as is_settled,
        fetched_at::timestamptz as fetched_at
    from source
)

select * from final
