-- Average watch time per video, per channel, over the 28 days of the owner's
-- reports that end on the newest reported day: minutes watched per video
-- watched, and per view (the average view duration). Every video the reports
-- count is in, whether the Data API collector tracks it or not; the views of
-- deleted videos (reported without a video id) are no video's and stay out
-- (fct_channel_daily_watch_time counts them). Minutes do not depend on the
-- views methodology; views (and so the duration per view) do: compare
-- windows of one methodology only. No join.
with

video_days as (
    select
        channel_id,
        video_id,
        metric_date,
        views,
        watch_time_minutes
    from {{ ref('fct_video_daily_watch_time') }}
    where
        metric_date > (
            select max(newest.metric_date) - 28
            from {{ ref('fct_video_daily_watch_time') }} as newest
        )
),

final as (
    select
        channel_id,
        min(metric_date) as first_date,
        max(metric_date) as last_date,
        count(distinct video_id) as videos_watched,
        sum(views) as video_views,
        sum(watch_time_minutes) as watch_time_minutes,
        round(sum(watch_time_minutes) / count(distinct video_id), 2)
            as watch_time_minutes_per_video,
        round(sum(watch_time_minutes) * 60 / nullif(sum(views), 0), 1)
            as average_view_duration_seconds
    from video_days
    group by channel_id
)

select * from final
order by watch_time_minutes_per_video desc, channel_id asc
