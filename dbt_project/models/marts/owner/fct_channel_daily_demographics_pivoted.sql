-- fct_channel_daily_demographics pivoted: one row per channel and day of the
-- channel_demographics reports, the share of views of each age group (both
-- genders) and of each gender (every age). A day whose report was header-only
-- (no group large enough for YouTube to report) is a row of nulls with
-- report_status no_data, never a missing day.
{%- set age_groups = [
    ('AGE_13_17', 'age_13_17'),
    ('AGE_18_24', 'age_18_24'),
    ('AGE_25_34', 'age_25_34'),
    ('AGE_35_44', 'age_35_44'),
    ('AGE_45_54', 'age_45_54'),
    ('AGE_55_64', 'age_55_64'),
    ('AGE_65_', 'age_65_plus'),
] %}
{%- set genders = [
    ('FEMALE', 'female'), ('MALE', 'male'), ('GENDER_OTHER', 'gender_other')
] %}
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
        {%- for value, name in age_groups %}
        sum(views_pct) filter (where age_group = '{{ value }}') as {{ name }}_views_pct,
        {%- endfor %}
        {%- for value, name in genders %}
        sum(views_pct) filter (where gender = '{{ value }}') as {{ name }}_views_pct,
        {%- endfor %}
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
        {%- for _, name in age_groups + genders %}
        coalesce(
            p.{{ name }}_views_pct, case when p.channel_id is not null then 0 end
        )::numeric(7, 3) as {{ name }}_views_pct,
        {%- endfor %}
        p.reported_views_pct::numeric(7, 3) as reported_views_pct,
        m.views_methodology::text as views_methodology
    from report_days as d
    left join pivoted as p
        on d.channel_id = p.channel_id and d.metric_date = p.metric_date
    inner join methodologies as m
        on d.metric_date >= m.valid_from_date and d.metric_date < m.valid_to_date
)

select * from final
