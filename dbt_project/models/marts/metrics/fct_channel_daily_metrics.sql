{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        unique_key=['channel_id', 'metric_date'],
        on_schema_change='fail',
        window_column='metric_date',
        indexes=[
            {'columns': ['metric_date', 'channel_id'], 'unique': true},
            {'columns': ['built_at']},
        ],
    )
}}

{%- if is_incremental() %}
    {#-
        The lookback window, and before it the days a parent rewrote since
        this model's last run (a late snapshot's days).
    #}
    {%- set window_start = incremental_window_start('metric_date') %}
    {%- set late_days = rebuilt_days(
        [
            (ref('int_channel_snapshots_differenced'), 'collection_date'),
            (ref('fct_video_daily_metrics'), 'metric_date'),
        ],
        before=window_start,
    ) %}
    {%- set first_rewritten = rewrite_start(window_start, late_days) %}
{%- endif %}

-- The channel-day, reconciled with its videos (docs block channel_revenue):
-- engagement over the tracked videos alone, and revenue = the tracked videos'
-- revenue (fct_video_daily_metrics) + the untracked catalog's, priced on the
-- views the channel's counter gained beyond its tracked videos.
with

channel_deltas as (
    select
        channel_id,
        collection_date,
        days_since_previous,
        subscriber_count,
        previous_subscriber_count,
        subscribers_daily,
        view_count,
        views_daily,
        is_restated,
        is_baseline
    from {{ ref('int_channel_snapshots_differenced') }}
    {% if is_incremental() %}
        where
            collection_date >= {{ first_rewritten }}
            and {{ rewritten('collection_date', window_start, late_days) }}
    {% endif %}
),

video_days as (
    select
        channel_id,
        metric_date,
        is_baseline,
        views_daily,
        likes_daily,
        comments_daily,
        shares_daily,
        ad_revenue_usd,
        affiliate_revenue_usd,
        sponsorship_revenue_usd,
        revenue_estimate_usd
    from {{ ref('fct_video_daily_metrics') }}
    {% if is_incremental() %}
        where
            metric_date >= {{ first_rewritten }}
            and {{ rewritten('metric_date', window_start, late_days) }}
    {% endif %}
),

published as (
    select
        channel_id,
        published_date,
        count(*) as videos_published,
        sum(generation_cost_usd) as generation_cost_usd
    from {{ ref('dim_videos') }}
    {% if is_incremental() %}
        where
            published_date >= {{ first_rewritten }}
            and {{ rewritten('published_date', window_start, late_days) }}
    {% endif %}
    group by channel_id, published_date
),

channel_cpm as (
    select
        channel_id,
        base_cpm_usd,
        cpm_source
    from {{ ref('int_channels_cpm_resolved') }}
),

tracked as (
    select
        channel_id,
        metric_date,
        count(*) as tracked_videos,
        -- a baseline video-day's zero deltas are not a measurement
        count(*) filter (where not is_baseline) as measured_videos,
        sum(views_daily) as tracked_views_daily,
        sum({{ billable_views('views_daily') }}) as tracked_billable_views,
        sum(likes_daily) as likes_daily,
        sum(comments_daily) as comments_daily,
        sum(shares_daily) as shares_daily,
        bool_or(views_daily is null) as has_unknown_views,
        bool_or(likes_daily is null) as has_unknown_likes,
        bool_or(comments_daily is null) as has_unknown_comments,
        sum(ad_revenue_usd) as ad_revenue_usd,
        sum(affiliate_revenue_usd) as affiliate_revenue_usd,
        sum(sponsorship_revenue_usd) as sponsorship_revenue_usd,
        sum(revenue_estimate_usd) as revenue_usd
    from video_days
    group by channel_id, metric_date
),

joined as (
    select
        channel_deltas.channel_id,
        channel_deltas.collection_date as metric_date,
        channel_deltas.is_baseline,
        channel_deltas.days_since_previous,
        channel_deltas.subscriber_count as subscribers,
        channel_deltas.previous_subscriber_count as previous_subscribers,
        channel_deltas.subscribers_daily,
        channel_deltas.view_count as views_total,
        channel_deltas.views_daily,
        coalesce(tracked.tracked_videos, 0) as tracked_videos,
        coalesce(tracked.measured_videos, 0) as measured_videos,
        coalesce(tracked.tracked_views_daily, 0) as tracked_views_daily,
        coalesce(tracked.tracked_billable_views, 0) as tracked_billable_views,
        coalesce(tracked.likes_daily, 0) as likes_daily,
        coalesce(tracked.comments_daily, 0) as comments_daily,
        coalesce(tracked.shares_daily, 0) as shares_daily,
        coalesce(tracked.has_unknown_views, false) as has_unknown_views,
        coalesce(tracked.has_unknown_likes, false) as has_unknown_likes,
        coalesce(tracked.has_unknown_comments, false) as has_unknown_comments,
        coalesce(published.videos_published, 0) as videos_published,
        coalesce(published.generation_cost_usd, 0) as generation_cost_usd,
        coalesce(tracked.ad_revenue_usd, 0) as tracked_ad_revenue_usd,
        coalesce(tracked.affiliate_revenue_usd, 0) as tracked_affiliate_revenue_usd,
        coalesce(tracked.sponsorship_revenue_usd, 0) as sponsorship_revenue_usd,
        coalesce(tracked.revenue_usd, 0) as tracked_revenue_usd,
        channel_deltas.is_restated,
        coalesce(channel_cpm.base_cpm_usd, {{ var('default_base_cpm_usd') }})
            as base_cpm_usd,
        coalesce(channel_cpm.cpm_source, 'default') as cpm_source
    from channel_deltas
    left join tracked
        on
            channel_deltas.channel_id = tracked.channel_id
            and channel_deltas.collection_date = tracked.metric_date
    left join published
        on
            channel_deltas.channel_id = published.channel_id
            and channel_deltas.collection_date = published.published_date
    left join channel_cpm
        on channel_deltas.channel_id = channel_cpm.channel_id
),

rated as (
    select
        *,
        -- The catalog beyond the tracked videos: unmeasured on a baseline day.
        -- Unknown when YouTube hid the channel's view counter (greatest()
        -- would skip the null and call it 0).
        case
            when is_baseline then 0
            when views_daily is not null
                then greatest(views_daily - tracked_views_daily, 0)
        end as untracked_views_daily,
        -- No rate when none of its tracked videos was measured that day.
        case when measured_videos > 0 then {{ engagement_rate(
            'likes_daily', 'comments_daily', 'shares_daily', 'tracked_views_daily'
        ) }} end as engagement_rate_pct,
        case when not is_baseline then {{ growth_rate(
            'subscribers', 'previous_subscribers'
        ) }} end as subscriber_growth_pct,
        -- Published before the day's end is published on a day up to it
        -- (published_date is published_at's reporting day): one probe of
        -- dim_videos' (channel_id, published_at) index per row, where a
        -- published_date filter reads every older video of the channel.
        (
            select max(channel_videos.published_at)
            from {{ ref('dim_videos') }} as channel_videos
            where
                channel_videos.channel_id = joined.channel_id
                and channel_videos.published_at
                < {{ reporting_day_start('joined.metric_date + 1') }}
        ) as last_published_at,
        -- Likes and comments are summed over the videos that showed them; a
        -- hidden channel counter leaves its delta (and what it prices) null.
        {{ unknown_inputs({
            'views': 'views_daily is null or has_unknown_views',
            'subscribers': 'subscribers_daily is null',
            'likes': 'has_unknown_likes',
            'comments': 'has_unknown_comments',
        }) }} as unknown_inputs
    from joined
),

-- The untracked catalog at the channel's base CPM and the tier of its tracked
-- engagement; no sponsorship, which is a per-video deal (docs channel_revenue).
{%- set catalog_cpm = 'base_cpm_usd * ' ~ cpm_multiplier('engagement_rate_pct') %}
{%- set catalog_ad = ad_revenue_usd('untracked_views_daily', catalog_cpm) %}

priced as (
    select
        *,
        {{ cpm_multiplier('engagement_rate_pct') }} as cpm_multiplier,
        {{ catalog_cpm }} as cpm_usd,
        round({{ catalog_ad }}, 4) as untracked_ad_revenue_usd,
        round({{ affiliate_revenue_usd(catalog_ad) }}, 4)
            as untracked_affiliate_revenue_usd,
        round(
            {{ catalog_ad }} + {{ affiliate_revenue_usd(catalog_ad) }}, 2
        ) as untracked_revenue_usd
    from rated
),

final as (
    select
        channel_id::text as channel_id,
        metric_date::date as metric_date,
        is_baseline::boolean as is_baseline,
        days_since_previous::integer as days_since_previous,
        subscribers::bigint as subscribers,
        previous_subscribers::bigint as previous_subscribers,
        subscribers_daily::bigint as subscribers_daily,
        subscriber_growth_pct::numeric(12, 2) as subscriber_growth_pct,
        views_total::bigint as views_total,
        views_daily::bigint as views_daily,
        tracked_videos::integer as tracked_videos,
        tracked_views_daily::bigint as tracked_views_daily,
        untracked_views_daily::bigint as untracked_views_daily,
        likes_daily::bigint as likes_daily,
        comments_daily::bigint as comments_daily,
        shares_daily::bigint as shares_daily,
        engagement_rate_pct::numeric(12, 2) as engagement_rate_pct,
        videos_published::integer as videos_published,
        last_published_at::timestamptz as last_published_at,
        generation_cost_usd::numeric(18, 4) as generation_cost_usd,
        base_cpm_usd::numeric(10, 4) as base_cpm_usd,
        cpm_source::text as cpm_source,
        cpm_multiplier::numeric as cpm_multiplier,
        cpm_usd::numeric(10, 4) as cpm_usd,
        (tracked_billable_views + untracked_views_daily)::bigint as billable_views,
        tracked_revenue_usd::numeric(18, 2) as tracked_revenue_usd,
        untracked_revenue_usd::numeric(18, 2) as untracked_revenue_usd,
        (tracked_ad_revenue_usd + untracked_ad_revenue_usd)::numeric(18, 4)
            as ad_revenue_usd,
        (tracked_affiliate_revenue_usd + untracked_affiliate_revenue_usd)
        ::numeric(18, 4) as affiliate_revenue_usd,
        sponsorship_revenue_usd::numeric(18, 4) as sponsorship_revenue_usd,
        (tracked_revenue_usd + untracked_revenue_usd)::numeric(18, 2)
            as revenue_estimate_usd,
        is_restated::boolean as is_restated,
        unknown_inputs::text[] as unknown_inputs,
        {{ built_at() }} as built_at
    from priced
    {% if not is_incremental() %}
        -- Days stored contiguously: daily runs read and replace recent days.
        order by metric_date, channel_id
    {% endif %}
)

select * from final
