{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        unique_key=['channel_id', 'collection_date'],
        on_schema_change='fail',
        window_column='collection_date',
        indexes=[
            {'columns': ['collection_date', 'channel_id'], 'unique': true},
        ],
    )
}}

with

snapshots as (
    select
        channel_id,
        collection_date,
        channel_published_at,
        subscriber_count,
        view_count
    from {{ ref('stg_youtube__channel_snapshots') }}
    {% if is_incremental() %}
        where collection_date >= {{ incremental_window_start('collection_date') }}
            - {{ var('max_gap_days') }}
    {% endif %}
),

flagged as (
    select
        channel_id,
        collection_date,
        subscriber_count,
        view_count,
        {{ to_reporting_date('channel_published_at') }}
        >= collection_date - {{ var('new_entity_days') }} as starts_from_zero
    from snapshots
),

differenced as (
    {{ counter_deltas(
        'flagged',
        ['channel_id'],
        'collection_date',
        {'subscriber_count': 'subscribers_daily', 'view_count': 'views_daily'},
    ) }}
),

final as (
    select * from differenced
    {% if is_incremental() %}
        where collection_date >= {{ incremental_window_start('collection_date') }}
    {% endif %}
)

select * from final
