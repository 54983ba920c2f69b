-- Revenue per dollar of generation cost, by channel and by niche: the
-- lifetime revenue of the videos the platform generated (each video's own
-- revenue, never the channel's untracked catalog) over what generating them
-- cost. Rows with channel_id null are the niche totals. No joins.
with

generated_videos as (
    select
        channel_id,
        niche,
        revenue_lifetime_usd,
        generation_cost_usd
    from {{ ref('mv_video_analytics') }}
    where generation_cost_usd > 0
),

final as (
    select
        niche,
        channel_id,
        count(*) as videos,
        sum(revenue_lifetime_usd) as revenue_usd,
        sum(generation_cost_usd) as generation_cost_usd,
        round(sum(revenue_lifetime_usd) / sum(generation_cost_usd), 2)
            as revenue_per_cost_usd
    from generated_videos
    group by grouping sets ((niche, channel_id), (niche))
)

select * from final
order by niche, channel_id nulls first
