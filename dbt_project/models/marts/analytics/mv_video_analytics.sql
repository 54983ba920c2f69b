{{
    config(
        indexes=[
            {'columns': ['video_id'], 'unique': true},
            {'columns': ['channel_id', 'views_7d']},
            {'columns': ['views_7d']},
        ],
    )
}}

-- Per video: lifetime and last-7-day performance next to what the video cost
-- to generate and how it scored. Lifetime figures are the settled totals plus
-- the days after them, so a refresh reads about a week of the daily fact, not
-- its history.
with

-- Not materialized: its two reads (bounds, totals) are cheaper from the
-- table than through a copy of it.
settled as not materialized (
    select
        video_id,
        views_settled,
        likes_settled,
        comments_settled,
        shares_settled,
        revenue_settled_usd,
        last_settled_date
    from {{ ref('fct_video_settled_totals') }}
),

-- Read twice (newest day, recent days): not materialized, so each read goes
-- through the fact's date index instead of a copy of the whole fact.
daily as not materialized (
    select
        video_id,
        metric_date,
        views_daily,
        likes_daily,
        comments_daily,
        shares_daily,
        revenue_estimate_usd
    from {{ ref('fct_video_daily_metrics') }}
),

videos as (
    select
        video_id,
        channel_id,
        video_title,
        published_date,
        duration_seconds,
        niche,
        quality_score,
        generation_cost_usd
    from {{ ref('dim_videos') }}
),

bounds as (
    select
        as_of_date,
        settled_through_date,
        least(settled_through_date, as_of_date - 7) as read_after_date
    from (
        select
            (select max(metric_date) from daily) as as_of_date,
            (
                select coalesce(max(last_settled_date), '0001-01-01'::date)
                from settled
            ) as settled_through_date
    ) as newest
),

-- The days after the settled totals, and the last 7 days.
recent_days as (
    select
        daily.video_id,
        daily.views_daily,
        daily.likes_daily,
        daily.comments_daily,
        daily.shares_daily,
        daily.revenue_estimate_usd,
        daily.metric_date > bounds.settled_through_date as is_unsettled,
        daily.metric_date > bounds.as_of_date - 7 as is_last_7d
    from daily
    cross join bounds
    where daily.metric_date > (select newest.read_after_date from bounds as newest)
),

recent as (
    select
        video_id,
        sum(views_daily) filter (where is_unsettled) as views_unsettled,
        sum(likes_daily) filter (where is_unsettled) as likes_unsettled,
        sum(comments_daily) filter (where is_unsettled) as comments_unsettled,
        sum(shares_daily) filter (where is_unsettled) as shares_unsettled,
        sum(revenue_estimate_usd) filter (where is_unsettled)
            as revenue_unsettled_usd,
        sum(views_daily) filter (where is_last_7d) as views_7d,
        sum(revenue_estimate_usd) filter (where is_last_7d) as revenue_7d_usd
    from recent_days
    group by video_id
),

totals as (
    select
        coalesce(settled.video_id, recent.video_id) as video_id,
        coalesce(settled.views_settled, 0) + coalesce(recent.views_unsettled, 0)
            as views_lifetime,
        coalesce(settled.likes_settled, 0) + coalesce(recent.likes_unsettled, 0)
            as likes_lifetime,
        coalesce(settled.comments_settled, 0) + coalesce(recent.comments_unsettled, 0)
            as comments_lifetime,
        coalesce(settled.shares_settled, 0) + coalesce(recent.shares_unsettled, 0)
            as shares_lifetime,
        coalesce(settled.revenue_settled_usd, 0)
        + coalesce(recent.revenue_unsettled_usd, 0) as revenue_lifetime_usd,
        recent.views_7d,
        recent.revenue_7d_usd
    from settled
    full outer join recent on settled.video_id = recent.video_id
),

final as (
    select
        videos.video_id::text as video_id,
        videos.channel_id::text as channel_id,
        videos.video_title::text as video_title,
        videos.published_date::date as published_date,
        videos.duration_seconds::integer as duration_seconds,
        videos.niche::text as niche,
        videos.quality_score::numeric(5, 2) as quality_score,
        videos.generation_cost_usd::numeric(6, 4) as generation_cost_usd,
        coalesce(totals.views_lifetime, 0)::bigint as views_lifetime,
        coalesce(totals.views_7d, 0)::bigint as views_7d,
        ({{ engagement_rate(
            'coalesce(totals.likes_lifetime, 0)',
            'coalesce(totals.comments_lifetime, 0)',
            'coalesce(totals.shares_lifetime, 0)',
            'coalesce(totals.views_lifetime, 0)',
        ) }})::numeric(12, 2) as engagement_rate_lifetime_pct,
        coalesce(totals.revenue_lifetime_usd, 0)::numeric(18, 2)
            as revenue_lifetime_usd,
        coalesce(totals.revenue_7d_usd, 0)::numeric(18, 2) as revenue_7d_usd,
        round(
            coalesce(totals.revenue_lifetime_usd, 0)
            / nullif(videos.generation_cost_usd, 0),
            4
        )::numeric(18, 4) as revenue_per_generation_usd
    from videos
    left join totals on videos.video_id = totals.video_id
)

select * from final
