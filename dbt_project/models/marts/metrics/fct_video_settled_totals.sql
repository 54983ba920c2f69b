{{
    config(
        materialized='incremental',
        incremental_strategy='accumulate',
        unique_key='video_id',
        on_schema_change='fail',
        accumulate_columns=[
            'settled_days', 'views_settled', 'likes_settled',
            'comments_settled', 'shares_settled', 'revenue_settled_usd',
        ],
        indexes=[{'columns': ['video_id'], 'unique': true}],
    )
}}

{%- if is_incremental() %}
    {%- set newest_settled %}
        select coalesce(max(accumulated.last_settled_date), '-infinity'::date)
        from {{ this }} as accumulated
    {%- endset %}
    {%- set settled_through = query_value(newest_settled, 'date') %}
{%- else %}
    {%- set settled_through = "'-infinity'::date" %}
{%- endif %}

-- Per video, the sums of its settled days: the days of fct_video_daily_metrics
-- older than that fact's incremental window, which no later daily run
-- changes. A daily run adds only the days that settled since the last one,
-- so mv_video_analytics gets lifetime figures without re-reading the history.
--
-- The days already added are those up to max(last_settled_date): any settled
-- row after it would have raised it. So the next batch starts the day after,
-- and a rerun with nothing newly settled adds nothing.
with

daily as (
    select
        video_id,
        metric_date,
        views_daily,
        likes_daily,
        comments_daily,
        shares_daily,
        revenue_estimate_usd
    from {{ ref('fct_video_daily_metrics') }}
    where
        metric_date > {{ settled_through }}
        and metric_date < {{ incremental_window_start(
            'metric_date', ref('fct_video_daily_metrics')
        ) }}
),

summed as (
    select
        video_id,
        count(*) as settled_days,
        sum(views_daily) as views_settled,
        sum(likes_daily) as likes_settled,
        sum(comments_daily) as comments_settled,
        sum(shares_daily) as shares_settled,
        sum(revenue_estimate_usd) as revenue_settled_usd,
        max(metric_date) as last_settled_date
    from daily
    group by video_id
),

final as (
    select
        video_id::text as video_id,
        settled_days::integer as settled_days,
        views_settled::bigint as views_settled,
        likes_settled::bigint as likes_settled,
        comments_settled::bigint as comments_settled,
        shares_settled::bigint as shares_settled,
        revenue_settled_usd::numeric(18, 2) as revenue_settled_usd,
        last_settled_date::date as last_settled_date
    from summed
)

select * from final
