{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        unique_key=['channel_id', 'collection_date'],
        on_schema_change='fail',
        window_column='collection_date',
        indexes=[
            {'columns': ['collection_date', 'channel_id'], 'unique': true},
            {'columns': ['built_at']},
        ],
    )
}}

{%- if is_incremental() %}
    {#-
        The lookback window, and before it the days a snapshot landed late
        touches (its own and the next snapshots differenced against it).
    #}
    {%- set window_start = incremental_window_start('collection_date') %}
    {%- set late_days = late_snapshot_days(
        ref('stg_youtube__channel_snapshots'),
        ref('stg_youtube__channel_snapshots'),
        'channel_id',
        ['subscriber_count', 'view_count'],
        window_start,
    ) %}
    {%- set first_read = rewrite_start(window_start, late_days, var('max_gap_days')) %}
{%- endif %}

with

snapshots as (
    select
        channel_id,
        collection_date,
        collected_at,
        channel_published_at,
        subscriber_count,
        view_count,
        dlt_load_id
    from {{ ref('stg_youtube__channel_snapshots') }}
    {% if is_incremental() %}
        -- The rewritten days, and the snapshots they are differenced against.
        where
            collection_date >= {{ first_read }}
            and (
                {{ rewritten('collection_date', window_start, late_days) }}
                or {{ precedes_rewritten('collection_date', window_start, late_days) }}
            )
    {% endif %}
),

flagged as (
    select
        channel_id,
        collection_date,
        collected_at,
        subscriber_count,
        view_count,
        dlt_load_id,
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
        carried=['collected_at', 'dlt_load_id'],
    ) }}
),

final as (
    select
        *,
        {{ built_at() }} as built_at
    from differenced
    {% if is_incremental() %}
        where {{ rewritten('collection_date', window_start, late_days) }}
    {% else %}
        -- Days stored contiguously: daily runs read and replace recent days.
        order by collection_date, channel_id
    {% endif %}
)

select * from final
