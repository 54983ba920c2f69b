-- Views from new and from catalog videos per channel and day, over every
-- video the owner's reports count (not only the uploads the Data API
-- collector tracks). A video is new on the day it was published (Pacific)
-- and the 6 days after (days since published < 7), catalog after that; the
-- views of deleted videos (reported without a video id) are catalog and are
-- kept in the channel's total. Publication days come from dim_reported_videos
-- (the Data API's when tracked, else the first day the reports counted a
-- view), so a day is answered from the 7th day after the channel's first
-- reported day on, when every new video was published inside the reports.
-- views_methodology flags the days counted after one of YouTube's changes to
-- what a view is. Two joins.
{%- set new_video_days = 7 %}
with

channel_days as (
    select
        channel_id,
        metric_date,
        views,
        deleted_video_views,
        views_methodology,
        min(metric_date) over (partition by channel_id) as first_report_date
    from {{ ref('fct_channel_daily_watch_time') }}
),

new_videos as (
    select
        video_days.channel_id,
        video_days.metric_date,
        count(*) as new_videos_viewed,
        sum(video_days.views) as new_video_views
    from {{ ref('fct_video_daily_watch_time') }} as video_days
    inner join {{ ref('dim_reported_videos') }} as videos
        on video_days.video_id = videos.video_id
    where video_days.metric_date - videos.published_date < {{ new_video_days }}
    group by video_days.channel_id, video_days.metric_date
),

final as (
    select
        channel_days.channel_id,
        channel_days.metric_date,
        channel_days.views,
        coalesce(new_videos.new_video_views, 0) as new_video_views,
        channel_days.views - coalesce(new_videos.new_video_views, 0)
            as catalog_video_views,
        channel_days.deleted_video_views,
        coalesce(new_videos.new_videos_viewed, 0) as new_videos_viewed,
        round(
            100.0 * coalesce(new_videos.new_video_views, 0)
            / nullif(channel_days.views, 0),
            2
        ) as new_video_views_pct,
        channel_days.views_methodology
    from channel_days
    left join new_videos
        on
            channel_days.channel_id = new_videos.channel_id
            and channel_days.metric_date = new_videos.metric_date
    where
        channel_days.metric_date
        >= channel_days.first_report_date + {{ new_video_days }}
)

select * from final
order by channel_id, metric_date
