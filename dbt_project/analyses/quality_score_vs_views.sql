-- Quality score distribution of the published videos the platform scored,
-- in bands of 10 points, against their lifetime views: how many videos, and
-- their mean and median views and mean revenue. No joins.
with

scored_videos as (
    select
        quality_score,
        views_lifetime,
        revenue_lifetime_usd
    from {{ ref('mv_video_analytics') }}
    where quality_score is not null
),

final as (
    select
        (floor(quality_score / 10) * 10)::integer as quality_band_start,
        count(*) as videos,
        round(avg(views_lifetime), 1) as views_mean,
        percentile_cont(0.5) within group (order by views_lifetime) as views_median,
        round(avg(revenue_lifetime_usd), 2) as revenue_mean_usd
    from scored_videos
    group by floor(quality_score / 10)
)

select * from final
order by quality_band_start
