-- The settled totals equal a fresh sum of fct_video_daily_metrics over every
-- day up to where the settled history ends: the accumulation neither missed
-- nor double-added a day. Returns the videos where they differ.
with

settled as (
    select
        video_id,
        settled_days,
        views_settled,
        likes_settled,
        comments_settled,
        shares_settled,
        revenue_settled_usd,
        last_settled_date
    from {{ ref('fct_video_settled_totals') }}
),

daily as (
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

resummed as (
    select
        daily.video_id,
        count(*)::integer as settled_days,
        sum(daily.views_daily)::bigint as views_settled,
        sum(daily.likes_daily)::bigint as likes_settled,
        sum(daily.comments_daily)::bigint as comments_settled,
        sum(daily.shares_daily)::bigint as shares_settled,
        sum(daily.revenue_estimate_usd) as revenue_settled_usd
    from daily
    where
        daily.metric_date
        <= (select max(newest.last_settled_date) from settled as newest)
    group by daily.video_id
),

final as (
    select
        coalesce(settled.video_id, resummed.video_id) as video_id,
        settled.views_settled,
        resummed.views_settled as views_resummed
    from settled
    full outer join resummed on settled.video_id = resummed.video_id
    where
        (
            settled.settled_days,
            settled.views_settled,
            settled.likes_settled,
            settled.comments_settled,
            settled.shares_settled,
            settled.revenue_settled_usd
        )
        is distinct from (
            resummed.settled_days,
            resummed.views_settled,
            resummed.likes_settled,
            resummed.comments_settled,
            resummed.shares_settled,
            resummed.revenue_settled_usd
        )
)

select * from final
