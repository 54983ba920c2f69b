{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        unique_key=['channel_id', 'metric_date'],
        on_schema_change='fail',
        window_column='metric_date',
        indexes=[
            {'columns': ['metric_date', 'channel_id'], 'unique': true},
        ],
    )
}}

with

channel_deltas as (
    select
        channel_id,
        collection_date,
        days_since_previous,
        subscriber_count,
        previous_subscriber_count,
        subscribers_daily,
        view_count,
        views_daily,
        is_restated
    from {{ ref('int_channel_snapshots_differenced') }}
    {% if is_incremental() %}
        where collection_date >= {{ incremental_window_start('metric_date') }}
    {% endif %}
),

video_deltas as (
    select
        channel_id,
        collection_date,
        likes_daily,
        comments_daily
    from {{ ref('int_video_snapshots_differenced') }}
    {% if is_incremental() %}
        where collection_date >= {{ incremental_window_start('metric_date') }}
    {% endif %}
),

share_deltas as (
    select
        channel_id,
        collection_date,
        shares_daily
    from {{ ref('int_video_shares_differenced') }}
    {% if is_incremental() %}
        where collection_date >= {{ incremental_window_start('metric_date') }}
    {% endif %}
),

channel_cpm as (
    select
        channel_id,
        base_cpm_usd,
        cpm_source
    from {{ ref('int_channels_cpm_resolved') }}
),

video_totals as (
    select
        channel_id,
        collection_date,
        sum(likes_daily) as likes_daily,
        sum(comments_daily) as comments_daily,
        bool_or(likes_daily is null) as has_unknown_likes,
        bool_or(comments_daily is null) as has_unknown_comments
    from video_deltas
    group by channel_id, collection_date
),

share_totals as (
    select
        channel_id,
        collection_date,
        sum(shares_daily) as shares_daily
    from share_deltas
    group by channel_id, collection_date
),

joined as (
    select
        channel_deltas.channel_id,
        channel_deltas.collection_date as metric_date,
        channel_deltas.days_since_previous,
        channel_deltas.subscriber_count as subscribers,
        channel_deltas.previous_subscriber_count as previous_subscribers,
        channel_deltas.subscribers_daily,
        channel_deltas.view_count as views_total,
        channel_deltas.views_daily,
        coalesce(video_totals.likes_daily, 0) as likes_daily,
        coalesce(video_totals.comments_daily, 0) as comments_daily,
        coalesce(share_totals.shares_daily, 0) as shares_daily,
        coalesce(video_totals.has_unknown_likes, false) as has_unknown_likes,
        coalesce(video_totals.has_unknown_comments, false) as has_unknown_comments,
        channel_deltas.is_restated,
        coalesce(channel_cpm.base_cpm_usd, {{ var('default_base_cpm_usd') }})
            as base_cpm_usd,
        coalesce(channel_cpm.cpm_source, 'default') as cpm_source
    from channel_deltas
    left join video_totals
        on
            channel_deltas.channel_id = video_totals.channel_id
            and channel_deltas.collection_date = video_totals.collection_date
    left join share_totals
        on
            channel_deltas.channel_id = share_totals.channel_id
            and channel_deltas.collection_date = share_totals.collection_date
    left join channel_cpm
        on channel_deltas.channel_id = channel_cpm.channel_id
),

rated as (
    select
        *,
        {{ engagement_rate(
            'likes_daily', 'comments_daily', 'shares_daily', 'views_daily'
        ) }} as engagement_rate,
        {{ growth_rate('subscribers', 'previous_subscribers') }} as growth_rate,
        -- Likes and comments are summed over the videos that showed them.
        {{ unknown_inputs({
            'views': 'views_daily is null',
            'subscribers': 'subscribers_daily is null',
            'likes': 'has_unknown_likes',
            'comments': 'has_unknown_comments',
        }) }} as unknown_inputs
    from joined
),

final as (
    select
        channel_id::text as channel_id,
        metric_date::date as metric_date,
        days_since_previous::integer as days_since_previous,
        subscribers::bigint as subscribers,
        previous_subscribers::bigint as previous_subscribers,
        subscribers_daily::bigint as subscribers_daily,
        views_total::bigint as views_total,
        views_daily::bigint as views_daily,
        likes_daily::bigint as likes_daily,
        comments_daily::bigint as comments_daily,
        shares_daily::bigint as shares_daily,
        engagement_rate::numeric(12, 2) as engagement_rate,
        growth_rate::numeric(12, 2) as growth_rate,
        base_cpm_usd::numeric(10, 4) as base_cpm_usd,
        cpm_source::text as cpm_source,
        {{ revenue_columns('views_daily', 'engagement_rate', 'base_cpm_usd') }}
        is_restated::boolean as is_restated,
        unknown_inputs::text[] as unknown_inputs
    from rated
)

select * from final
