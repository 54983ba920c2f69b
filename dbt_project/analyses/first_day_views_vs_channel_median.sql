-- A new video's views on the day it was published (Pacific; a part day)
-- against the median first day of its channel's videos published under the
-- same views methodology (YouTube's 2026-08-27 change makes later first days
-- count more views: the median never mixes the two). Every video the owner's
-- reports count whose publication day they cover, tracked by the Data API
-- collector or not (dim_reported_videos says how its day is known). One
-- join.
with

videos as (
    select
        video_id,
        channel_id,
        published_date,
        published_date_source,
        first_day_views,
        first_day_views_methodology
    from {{ ref('dim_reported_videos') }}
    where first_day_views is not null
),

channel_medians as (
    select
        channel_id,
        first_day_views_methodology,
        count(*) as videos_in_median,
        percentile_cont(0.5) within group (order by first_day_views)
            as channel_median_first_day_views
    from videos
    group by channel_id, first_day_views_methodology
),

final as (
    select
        videos.video_id,
        videos.channel_id,
        videos.published_date,
        videos.published_date_source,
        videos.first_day_views,
        channel_medians.channel_median_first_day_views,
        round(
            (
                videos.first_day_views
                / nullif(channel_medians.channel_median_first_day_views, 0)
            )::numeric,
            2
        ) as first_day_views_vs_median,
        channel_medians.videos_in_median,
        videos.first_day_views_methodology as views_methodology
    from videos
    inner join channel_medians
        on
            videos.channel_id = channel_medians.channel_id
            and videos.first_day_views_methodology
            = channel_medians.first_day_views_methodology
)

select * from final
order by channel_id, published_date, video_id
