-- One row per channel, day, age group and gender of the channels'
-- channel_demographics reports: the share of the channel's signed-in viewers'
-- views in that cell. YouTube reports the shares per group (video,
-- live_or_on_demand, subscribed status, country) and withholds small groups;
-- the channel-day's share is the groups' shares weighted by each group's views
-- (from channel_basic, whose rows are the same groups), over the groups it
-- reported. Cells YouTube left out (under 1 % of a group) count as 0 %.
with

demographics as (
    select * from {{ ref('stg_youtube_reporting__channel_demographics') }}
),

report_rows as (
    select * from {{ ref('stg_youtube_reporting__channel_basic') }}
),

methodologies as (
    select * from {{ ref('stg_youtube_reporting__views_methodologies') }}
),

groups_reported as (
    select distinct
        channel_id,
        metric_date,
        video_id,
        live_or_on_demand,
        subscribed_status,
        country_code
    from demographics
),

group_views as (
    select
        g.channel_id,
        g.metric_date,
        g.video_id,
        g.live_or_on_demand,
        g.subscribed_status,
        g.country_code,
        r.views,
        sum(r.views) over (
            partition by g.channel_id, g.metric_date
        ) as views_with_demographics
    from groups_reported as g
    inner join report_rows as r
        on
            g.channel_id = r.channel_id
            and g.metric_date = r.metric_date
            and g.video_id is not distinct from r.video_id
            and g.live_or_on_demand = r.live_or_on_demand
            and g.subscribed_status = r.subscribed_status
            and g.country_code is not distinct from r.country_code
    where r.views > 0
),

cells as (
    select
        d.channel_id,
        d.metric_date,
        d.age_group,
        d.gender,
        sum(d.views_pct * g.views) / min(g.views_with_demographics) as views_pct,
        min(g.views_with_demographics) as views_with_demographics
    from demographics as d
    inner join group_views as g
        on
            d.channel_id = g.channel_id
            and d.metric_date = g.metric_date
            and d.video_id is not distinct from g.video_id
            and d.live_or_on_demand = g.live_or_on_demand
            and d.subscribed_status = g.subscribed_status
            and d.country_code is not distinct from g.country_code
    group by d.channel_id, d.metric_date, d.age_group, d.gender
),

final as (
    select
        c.channel_id::text as channel_id,
        c.metric_date::date as metric_date,
        c.age_group::text as age_group,
        c.gender::text as gender,
        round(c.views_pct::numeric, 3)::numeric(7, 3) as views_pct,
        c.views_with_demographics::bigint as views_with_demographics,
        m.views_methodology::text as views_methodology
    from cells as c
    inner join methodologies as m
        on c.metric_date >= m.valid_from_date and c.metric_date < m.valid_to_date
)

select * from final
