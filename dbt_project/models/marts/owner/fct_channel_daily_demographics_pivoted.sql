-- fct_channel_daily_demographics pivoted: one row per channel and day of the
-- channel_demographics reports, the share of views of each age group (both
-- genders) and of each gender (every age). A day whose report was header-only
-- (no group large enough for YouTube to report) is a row of nulls with
-- report_status no_data, never a missing day; so is a day whose channel_basic
-- report (the groups' weights) is not out yet, with report_status landed.
with

report_days as (
    select * from {{ ref('stg_youtube_reporting__report_days') }}
    where report_family = 'channel_demographics'
),

cells as (
    select * from {{ ref('fct_channel_daily_demographics') }}
),

methodologies as (
    select * from {{ ref('stg_youtube_reporting__views_methodologies') }}
),

pivoted as (
    select
        channel_id,
        metric_date,
        min(views_with_demographics) as views_with_demographics,
        coalesce(sum(views_pct) filter (where age_group = 'AGE_13_17'), 0)
            as age_13_17_views_pct,
        coalesce(sum(views_pct) filter (where age_group = 'AGE_18_24'), 0)
            as age_18_24_views_pct,
        coalesce(sum(views_pct) filter (where age_group = 'AGE_25_34'), 0)
            as age_25_34_views_pct,
        coalesce(sum(views_pct) filter (where age_group = 'AGE_35_44'), 0)
            as age_35_44_views_pct,
        coalesce(sum(views_pct) filter (where age_group = 'AGE_45_54'), 0)
            as age_45_54_views_pct,
        coalesce(sum(views_pct) filter (where age_group = 'AGE_55_64'), 0)
            as age_55_64_views_pct,
        coalesce(sum(views_pct) filter (where age_group = 'AGE_65_'), 0)
            as age_65_plus_views_pct,
        coalesce(sum(views_pct) filter (where gender = 'FEMALE'), 0)
            as female_views_pct,
        coalesce(sum(views_pct) filter (where gender = 'MALE'), 0)
            as male_views_pct,
        coalesce(sum(views_pct) filter (where gender = 'GENDER_OTHER'), 0)
            as gender_other_views_pct,
        sum(views_pct) as reported_views_pct
    from cells
    group by channel_id, metric_date
),

final as (
    select
        d.channel_id::text as channel_id,
        d.metric_date::date as metric_date,
        d.report_status::text as report_status,
        p.views_with_demographics::bigint as views_with_demographics,
        p.age_13_17_views_pct::numeric(7, 3) as age_13_17_views_pct,
        p.age_18_24_views_pct::numeric(7, 3) as age_18_24_views_pct,
        p.age_25_34_views_pct::numeric(7, 3) as age_25_34_views_pct,
        p.age_35_44_views_pct::numeric(7, 3) as age_35_44_views_pct,
        p.age_45_54_views_pct::numeric(7, 3) as age_45_54_views_pct,
        p.age_55_64_views_pct::numeric(7, 3) as age_55_64_views_pct,
        p.age_65_plus_views_pct::numeric(7, 3) as age_65_plus_views_pct,
        p.female_views_pct::numeric(7, 3) as female_views_pct,
        p.male_views_pct::numeric(7, 3) as male_views_pct,
        p.gender_other_views_pct::numeric(7, 3) as gender_other_views_pct,
        p.reported_views_pct::numeric(7, 3) as reported_views_pct,
        m.views_methodology::text as views_methodology
    from report_days as d
    left join pivoted as p
        on d.channel_id = p.channel_id and d.metric_date = p.metric_date
    inner join methodologies as m
        on d.metric_date >= m.valid_from_date and d.metric_date < m.valid_to_date
)

select * from final
