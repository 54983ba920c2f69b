-- The base CPM each channel's niche earned, calibrated from the actual ad
-- revenue YouTube reported for the niche's other channels (docs block
-- cpm_calibration). The estimate prices a channel-day as
--   billable views / 1000 x base CPM x engagement multiplier,
-- so the base CPM that reproduces what a niche's channels earned over the
-- window is
--   sum(actual ad revenue) / sum(views / 1000 x engagement multiplier)
-- over their settled channel-days: the niche's revenue per 1,000 priced
-- views, a ratio of sums (YouTube's own RPM), so a big day weighs by its size.
-- A channel never counts in its own calibration (leave one channel out): a
-- channel without actuals reads its whole niche's, and a channel with actuals
-- is estimated as if it had none, so its estimate's error beside its actuals
-- is measured on data the calibration did not see.
with

actuals as (
    select
        channel_id,
        metric_date,
        estimated_ad_revenue_usd
    from {{ ref('stg_youtube_analytics__channel_days') }}
    where is_settled and estimated_ad_revenue_usd is not null
),

-- The newest settled day, and the window that ends on it.
calibration_window as (
    select
        max(metric_date) - {{ var('cpm_calibration_window_days') }} + 1
            as window_start_date,
        max(metric_date) as window_end_date
    from actuals
),

-- What one USD of base CPM prices on a channel-day, as fct_video_daily_metrics
-- and fct_channel_daily_metrics price it (docs block channel_revenue): each
-- tracked video's billable views at its own engagement tier, plus the
-- untracked catalog (the channel counter's gain beyond its tracked videos)
-- at the tier of the channel's tracked engagement.
video_days as (
    select
        video_deltas.channel_id,
        video_deltas.collection_date as metric_date,
        video_deltas.is_baseline,
        video_deltas.views_daily,
        video_deltas.likes_daily,
        video_deltas.comments_daily,
        coalesce(share_deltas.shares_daily, 0) as shares_daily,
        {{ billable_views('video_deltas.views_daily') }}::numeric / 1000
        * {{ cpm_multiplier(
            'case when not video_deltas.is_baseline then '
            ~ engagement_rate(
                'coalesce(video_deltas.likes_daily, 0)',
                'coalesce(video_deltas.comments_daily, 0)',
                'coalesce(share_deltas.shares_daily, 0)',
                'video_deltas.views_daily'
            ) ~ ' end'
        ) }} as priced_views_k
    from {{ ref('int_video_snapshots_differenced') }} as video_deltas
    inner join calibration_window
        on
            video_deltas.collection_date
            between calibration_window.window_start_date
            and calibration_window.window_end_date
    left join {{ ref('int_video_shares_differenced') }} as share_deltas
        on
            video_deltas.video_id = share_deltas.video_id
            and video_deltas.collection_date = share_deltas.collection_date
),

tracked as (
    select
        channel_id,
        metric_date,
        count(*) filter (where not is_baseline) as measured_videos,
        sum(views_daily) as views_daily,
        sum(likes_daily) as likes_daily,
        sum(comments_daily) as comments_daily,
        sum(shares_daily) as shares_daily,
        sum(priced_views_k) as priced_views_k
    from video_days
    group by channel_id, metric_date
),

-- A baseline day measures nothing and a hidden view counter leaves the
-- catalog unpriced: neither is a day to calibrate on.
channel_days as (
    select
        actuals.channel_id,
        actuals.metric_date,
        actuals.estimated_ad_revenue_usd,
        coalesce(tracked.priced_views_k, 0)
        + greatest(
            channel_deltas.views_daily - coalesce(tracked.views_daily, 0), 0
        )::numeric / 1000
        * {{ cpm_multiplier(
            'case when tracked.measured_videos > 0 then '
            ~ engagement_rate(
                'tracked.likes_daily',
                'tracked.comments_daily',
                'tracked.shares_daily',
                'tracked.views_daily'
            ) ~ ' end'
        ) }} as priced_views_k
    from actuals
    inner join calibration_window
        on
            actuals.metric_date
            between calibration_window.window_start_date
            and calibration_window.window_end_date
    inner join {{ ref('int_channel_snapshots_differenced') }} as channel_deltas
        on
            actuals.channel_id = channel_deltas.channel_id
            and actuals.metric_date = channel_deltas.collection_date
    left join tracked
        on
            actuals.channel_id = tracked.channel_id
            and actuals.metric_date = tracked.metric_date
    where not channel_deltas.is_baseline and channel_deltas.views_daily is not null
),

channels as (
    select
        channel_id,
        niche
    from {{ ref('stg_ytempire__channels') }}
),

own as (
    select
        channel_id,
        count(*) as channel_days,
        sum(estimated_ad_revenue_usd) as ad_revenue_usd,
        sum(priced_views_k) as priced_views_k
    from channel_days
    group by channel_id
),

per_channel as (
    select
        channels.channel_id,
        channels.niche,
        own.channel_id is not null as has_actuals,
        coalesce(own.channel_days, 0) as channel_days,
        coalesce(own.ad_revenue_usd, 0) as ad_revenue_usd,
        coalesce(own.priced_views_k, 0) as priced_views_k
    from channels
    left join own on channels.channel_id = own.channel_id
),

-- The niche's totals less the channel's own.
others as (
    select
        channel_id,
        niche,
        has_actuals,
        channel_days,
        ad_revenue_usd,
        priced_views_k,
        count(*) filter (where has_actuals) over niche_channels
        - has_actuals::integer as other_channels,
        sum(channel_days) over niche_channels - channel_days as other_channel_days,
        sum(ad_revenue_usd) over niche_channels - ad_revenue_usd
            as other_ad_revenue_usd,
        sum(priced_views_k) over niche_channels - priced_views_k as other_priced_views_k
    from per_channel
    window niche_channels as (partition by niche)
),

final as (
    select
        others.channel_id::text as channel_id,
        others.niche::text as niche,
        others.has_actuals::boolean as has_actuals,
        others.channel_days::integer as channel_days,
        others.ad_revenue_usd::numeric(18, 4) as ad_revenue_usd,
        others.priced_views_k::numeric(18, 4) as priced_views_k,
        others.other_channels::integer as calibration_channels,
        others.other_channel_days::integer as calibration_channel_days,
        (case
            when
                others.other_channels >= {{ var('cpm_calibration_min_channels') }}
                and others.other_channel_days
                >= {{ var('cpm_calibration_min_channel_days') }}
                and others.other_priced_views_k > 0
                then others.other_ad_revenue_usd / others.other_priced_views_k
        end)::numeric(10, 4) as calibrated_base_cpm_usd,
        calibration_window.window_start_date::date as window_start_date,
        calibration_window.window_end_date::date as window_end_date
    from others
    cross join calibration_window
)

select * from final
