-- One row per channel and day of the channels' channel_reach_basic reports:
-- thumbnail impressions of every video summed, and the day's click-through
-- rate as views from impressions over impressions (a rate does not add; it is
-- the videos' rates weighted by their impressions). A header-only day is a row
-- of zeros with report_status no_data.
with

report_days as (
    select * from {{ ref('stg_youtube_reporting__report_days') }}
    where report_family = 'channel_reach_basic'
),

report_rows as (
    select * from {{ ref('stg_youtube_reporting__channel_reach_basic') }}
),

methodologies as (
    select * from {{ ref('stg_youtube_reporting__views_methodologies') }}
),

channel_days as (
    select
        channel_id,
        metric_date,
        sum(video_thumbnail_impressions) as impressions,
        sum(video_thumbnail_impressions * video_thumbnail_impressions_ctr)
            as views_from_impressions,
        count(distinct video_id) filter (
            where video_thumbnail_impressions > 0
        ) as videos_with_impressions
    from report_rows
    group by channel_id, metric_date
),

final as (
    select
        d.channel_id::text as channel_id,
        d.metric_date::date as metric_date,
        d.report_status::text as report_status,
        coalesce(c.impressions, 0)::bigint as video_thumbnail_impressions,
        (c.views_from_impressions / nullif(c.impressions, 0))::numeric(9, 6)
            as video_thumbnail_impressions_ctr,
        round(coalesce(c.views_from_impressions, 0))::bigint as views_from_impressions,
        coalesce(c.videos_with_impressions, 0)::integer as videos_with_impressions,
        m.views_methodology::text as views_methodology
    from report_days as d
    left join channel_days as c
        on d.channel_id = c.channel_id and d.metric_date = c.metric_date
    inner join methodologies as m
        on d.metric_date >= m.valid_from_date and d.metric_date < m.valid_to_date
)

select * from final
