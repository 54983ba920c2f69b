{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        unique_key=['video_id', 'collection_date'],
        on_schema_change='fail',
        window_column='collection_date',
        indexes=[
            {'columns': ['video_id', 'collection_date'], 'unique': true},
            {'columns': ['collection_date']},
        ],
    )
}}

with

snapshots as (
    select
        video_id,
        collection_date,
        view_count,
        like_count,
        comment_count
    from {{ ref('stg_youtube__video_snapshots') }}
    {% if is_incremental() %}
        where collection_date >= {{ incremental_window_start('collection_date') }}
            - {{ var('max_gap_days') }}
    {% endif %}
),

videos as (
    select
        video_id,
        channel_id,
        published_date
    from {{ ref('stg_youtube__videos') }}
),

flagged as (
    select
        snapshots.video_id,
        videos.channel_id,
        snapshots.collection_date,
        snapshots.view_count,
        snapshots.like_count,
        snapshots.comment_count,
        coalesce(
            videos.published_date
            >= snapshots.collection_date - {{ var('new_entity_days') }},
            false
        ) as starts_from_zero
    from snapshots
    inner join videos on snapshots.video_id = videos.video_id
),

differenced as (
    {{ counter_deltas(
        'flagged',
        ['video_id', 'channel_id'],
        'collection_date',
        {
            'view_count': 'views_daily',
            'like_count': 'likes_daily',
            'comment_count': 'comments_daily',
        },
    ) }}
),

final as (
    select * from differenced
    {% if is_incremental() %}
        where collection_date >= {{ incremental_window_start('collection_date') }}
    {% endif %}
)

select * from final
