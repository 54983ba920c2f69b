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
        indexes=[
            {'columns': ['video_id'], 'unique': true},
            {'columns': ['built_at']},
        ],
    )
}}

{%- set summed_columns = [
    'settled_days', 'views_settled', 'likes_settled',
    'comments_settled', 'shares_settled', 'revenue_settled_usd',
] %}
{%- if is_incremental() %}
    {%- set newest_settled %}
        select coalesce(max(accumulated.last_settled_date), '-infinity'::date)
        from {{ this }} as accumulated
    {%- endset %}
    {%- set settled_through = query_value(newest_settled, 'date') %}
    {#-
        The channels whose settled days fct_video_daily_metrics rewrote since
        this model's last run (a late snapshot, a full refresh of that fact):
        their videos' totals are summed again from all their settled days.
    #}
    {%- set restated %}
        select coalesce(array_agg(distinct rewritten.channel_id), '{}')
        from {{ ref('fct_video_daily_metrics') }} as rewritten
        where
            rewritten.built_at > (
                select coalesce(max(accumulated.built_at), '-infinity')
                from {{ this }} as accumulated
            )
            and rewritten.metric_date <= {{ settled_through }}
    {%- endset %}
    {%- set restated_channels = query_value(restated, 'text[]') %}
{%- else %}
    {%- set settled_through = "'-infinity'::date" %}
    {%- set restated_channels = "'{}'::text[]" %}
{%- endif %}

-- Per video, the sums of its settled days: the days of fct_video_daily_metrics
-- older than that fact's incremental window, which a daily run changes only
-- when a snapshot lands late. A daily run adds only the days that settled
-- since the last one, so mv_video_analytics gets lifetime figures without
-- re-reading the history.
--
-- The days already added are those up to max(last_settled_date): any settled
-- row after it would have raised it. So the next batch starts the day after,
-- and a rerun with nothing newly settled adds nothing. A video whose settled
-- days were rewritten since gets its sums again, as the difference from what
-- it holds (the strategy adds the batch to the stored row).
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
        (
            metric_date > {{ settled_through }}
            or (
                channel_id = any({{ restated_channels }})
                and metric_date <= {{ settled_through }}
            )
        )
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
        max(metric_date) as last_settled_date,
        bool_or(metric_date <= {{ settled_through }}) as is_resummed
    from daily
    group by video_id
),

{% if is_incremental() %}
    -- A resummed video's batch is its new sums minus the stored ones.
    batch as (
        select
            summed.video_id,
            {%- for column in summed_columns %}
            case
                when summed.is_resummed and stored.{{ column }} is not null
                    then coalesce(summed.{{ column }}, 0) - stored.{{ column }}
                else summed.{{ column }}
            end as {{ column }},
            {%- endfor %}
            summed.last_settled_date
        from summed
        left join {{ this }} as stored
            on summed.is_resummed and summed.video_id = stored.video_id
    ),
{% endif %}

final as (
    select
        video_id::text as video_id,
        settled_days::integer as settled_days,
        views_settled::bigint as views_settled,
        likes_settled::bigint as likes_settled,
        comments_settled::bigint as comments_settled,
        shares_settled::bigint as shares_settled,
        revenue_settled_usd::numeric(18, 2) as revenue_settled_usd,
        last_settled_date::date as last_settled_date,
        {{ built_at() }} as built_at
    from {{ 'batch' if is_incremental() else 'summed' }}
)

select * from final
