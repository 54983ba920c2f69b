{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        unique_key=['video_id', 'metric_date'],
        on_schema_change='fail',
        window_column='metric_date',
        indexes=[
            {'columns': ['metric_date', 'video_id'], 'unique': true},
            {'columns': ['channel_id', 'metric_date']},
            {'columns': ['built_at']},
        ],
    )
}}

{%- if is_incremental() %}
    {%- set window_start = incremental_window_start('metric_date') %}
    {#-
        The days a parent rewrote since this model's last run (usually just
        the new day, and any day a late snapshot touched), and the days of
        the lookback window from the first one whose channel CPM changed
        since it was built: the revenue columns are functions of the
        parents' columns and the CPM.
    #}
    {%- set cpm_changed -%}
        select min(built.metric_date)
        from {{ this }} as built
        left join {{ ref('int_channels_cpm_resolved') }} as channel_cpm
            on built.channel_id = channel_cpm.channel_id
        where
            built.metric_date >= {{ window_start }}
            and (built.base_cpm_usd, built.cpm_source) is distinct from (
                coalesce(channel_cpm.base_cpm_usd, {{ var('default_base_cpm_usd') }}),
                coalesce(channel_cpm.cpm_source, 'default')
            )
    {%- endset %}
    {%- set cpm_changed_from -%}
        coalesce({{ query_value(cpm_changed, 'date') }}, 'infinity'::date)
    {%- endset %}
    {%- set rebuilt = rebuilt_days([
        (ref('int_video_snapshots_differenced'), 'collection_date'),
        (ref('int_video_shares_differenced'), 'collection_date'),
    ]) %}
    {%- set first_rewritten = rewrite_start(cpm_changed_from, rebuilt) %}
{%- endif %}

with

video_deltas as (
    select
        video_id,
        channel_id,
        collection_date,
        days_since_previous,
        view_count,
        like_count,
        comment_count,
        views_daily,
        likes_daily,
        comments_daily,
        is_restated,
        is_baseline
    from {{ ref('int_video_snapshots_differenced') }}
    {% if is_incremental() %}
        where
            collection_date >= {{ first_rewritten }}
            and {{ rewritten('collection_date', cpm_changed_from, rebuilt) }}
    {% endif %}
),

share_deltas as (
    select
        video_id,
        collection_date,
        shares_daily
    from {{ ref('int_video_shares_differenced') }}
    {% if is_incremental() %}
        where
            collection_date >= {{ first_rewritten }}
            and {{ rewritten('collection_date', cpm_changed_from, rebuilt) }}
    {% endif %}
),

channel_cpm as (
    select
        channel_id,
        base_cpm_usd,
        cpm_source
    from {{ ref('int_channels_cpm_resolved') }}
),

videos as (
    select
        video_id,
        published_date
    from {{ ref('dim_videos') }}
),

joined as (
    select
        video_deltas.video_id,
        video_deltas.channel_id,
        video_deltas.collection_date as metric_date,
        video_deltas.days_since_previous,
        video_deltas.view_count as views_total,
        video_deltas.like_count as likes_total,
        video_deltas.comment_count as comments_total,
        video_deltas.views_daily,
        video_deltas.likes_daily,
        video_deltas.comments_daily,
        coalesce(share_deltas.shares_daily, 0) as shares_daily,
        video_deltas.is_restated,
        video_deltas.is_baseline,
        video_deltas.days_since_previous is null as is_first_snapshot,
        video_deltas.collection_date - videos.published_date as days_since_published,
        coalesce(channel_cpm.base_cpm_usd, {{ var('default_base_cpm_usd') }})
            as base_cpm_usd,
        coalesce(channel_cpm.cpm_source, 'default') as cpm_source
    from video_deltas
    left join share_deltas
        on
            video_deltas.video_id = share_deltas.video_id
            and video_deltas.collection_date = share_deltas.collection_date
    left join channel_cpm
        on video_deltas.channel_id = channel_cpm.channel_id
    left join videos
        on video_deltas.video_id = videos.video_id
),

-- A baseline day has no rate: its zero deltas were not measured. A counter
-- YouTube hid that day has no delta: the rate and the revenue are computed
-- from the known ones and unknown_inputs names the others.
rated as (
    select
        *,
        case when not is_baseline then {{ engagement_rate(
            'coalesce(likes_daily, 0)', 'coalesce(comments_daily, 0)',
            'shares_daily', 'views_daily',
        ) }} end as engagement_rate_pct,
        {{ unknown_inputs({
            'views': 'views_daily is null',
            'likes': 'likes_daily is null',
            'comments': 'comments_daily is null',
        }) }} as unknown_inputs
    from joined
),

final as (
    select
        video_id::text as video_id,
        channel_id::text as channel_id,
        metric_date::date as metric_date,
        is_baseline::boolean as is_baseline,
        is_first_snapshot::boolean as is_first_snapshot,
        days_since_previous::integer as days_since_previous,
        days_since_published::integer as days_since_published,
        views_total::bigint as views_total,
        likes_total::bigint as likes_total,
        comments_total::bigint as comments_total,
        views_daily::bigint as views_daily,
        likes_daily::bigint as likes_daily,
        comments_daily::bigint as comments_daily,
        shares_daily::bigint as shares_daily,
        engagement_rate_pct::numeric(12, 2) as engagement_rate_pct,
        base_cpm_usd::numeric(10, 4) as base_cpm_usd,
        cpm_source::text as cpm_source,
        {{ revenue_columns('views_daily', 'engagement_rate_pct', 'base_cpm_usd') }}
        is_restated::boolean as is_restated,
        unknown_inputs::text[] as unknown_inputs,
        {{ built_at() }} as built_at
    from rated
    {% if not is_incremental() %}
        -- Days stored contiguously: daily runs read and replace recent days.
        order by metric_date, video_id
    {% endif %}
)

select * from final
