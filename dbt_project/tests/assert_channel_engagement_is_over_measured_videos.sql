-- A channel's engagement rate is over its tracked videos measured that day
-- (docs blocks is_baseline, engagement_rate): null exactly when none of its
-- video rows that day was measured (none, or baselines only), whatever the
-- channel counter's own baseline says. Returns the channel-days that break it.
{{ config(meta={'docs_claim': 'is_baseline'}) }}

with

channel_days as (
    select
        channel_id,
        metric_date,
        engagement_rate_pct
    from {{ ref('fct_channel_daily_metrics') }}
),

measured as (
    select
        channel_id,
        metric_date,
        count(*) filter (where not is_baseline) as measured_videos
    from {{ ref('fct_video_daily_metrics') }}
    group by channel_id, metric_date
),

final as (
    select
        channel_days.channel_id,
        channel_days.metric_date,
        channel_days.engagement_rate_pct,
        coalesce(measured.measured_videos, 0) as measured_videos
    from channel_days
    left join measured
        on
            channel_days.channel_id = measured.channel_id
            and channel_days.metric_date = measured.metric_date
    where
        (channel_days.engagement_rate_pct is null)
        <> (coalesce(measured.measured_videos, 0) = 0)
)

select * from final
