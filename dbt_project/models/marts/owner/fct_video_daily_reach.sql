-- One row per video and day of the channels' channel_reach_basic reports: how
-- often YouTube showed the video's thumbnail (impressions) and the share of
-- those impressions that led to a view (click-through rate), with the day's
-- views methodology.
with

report_rows as (
    select * from {{ ref('stg_youtube_reporting__channel_reach_basic') }}
    where video_id is not null
),

methodologies as (
    select * from {{ ref('stg_youtube_reporting__views_methodologies') }}
),

final as (
    select
        r.video_id::text as video_id,
        r.metric_date::date as metric_date,
        r.channel_id::text as channel_id,
        r.video_thumbnail_impressions::bigint as video_thumbnail_impressions,
        r.video_thumbnail_impressions_ctr::numeric(9, 6)
            as video_thumbnail_impressions_ctr,
        round(
            r.video_thumbnail_impressions * r.video_thumbnail_impressions_ctr
        )::bigint as views_from_impressions,
        m.views_methodology::text as views_methodology
    from report_rows as r
    inner join methodologies as m
        on r.metric_date >= m.valid_from_date and r.metric_date < m.valid_to_date
)

select * from final
