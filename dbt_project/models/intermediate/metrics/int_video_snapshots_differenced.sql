{{
    config(
        materialized='incremental',
        incremental_strategy='replace_window',
        unique_key=['video_id', 'collection_date'],
        on_schema_change='fail',
        window_column='collection_date',
        indexes=[
            {'columns': ['collection_date', 'video_id'], 'unique': true},
            {'columns': ['dlt_load_id']},
            {'columns': ['built_at']},
        ],
    )
}}

-- depends_on: {{ ref('stg_youtube__video_snapshot_loads') }}
{%- if is_incremental() %}
    {%- set window_start = incremental_window_start('collection_date') %}
    {#-
        Of the lookback window, the days from the first one whose loads
        changed; before it, the days a snapshot landed late touches (its own
        and the next snapshots differenced against it).
    #}
    {%- set changed_from = first_reloaded_date(
        ref('stg_youtube__video_snapshot_loads'),
        'collection_date',
        'snapshot_count',
        window_start,
    ) %}
    {%- set changed_from = 'coalesce(' ~ changed_from ~ ", 'infinity'::date)" %}
    {%- set late_days = late_snapshot_days(
        ref('stg_youtube__video_snapshots'),
        ref('stg_youtube__video_snapshot_loads'),
        'video_id',
        ['view_count', 'like_count', 'comment_count'],
        window_start,
    ) %}
    {%- set first_rewritten = rewrite_start(changed_from, late_days) %}
{%- endif %}

with

snapshots as (
    select
        video_id,
        channel_id,
        collection_date,
        collected_at,
        view_count,
        like_count,
        comment_count,
        dlt_load_id
    from {{ ref('stg_youtube__video_snapshots') }}
    {% if is_incremental() %}
        where
            collection_date >= {{ first_rewritten }}
            and {{ rewritten('collection_date', changed_from, late_days) }}
    {% endif %}
),

videos as (
    select
        video_id,
        published_date
    from {{ ref('stg_youtube__videos') }}
),

{% if is_incremental() %}
    to_difference as (
        {{ with_stored_previous(
            'snapshots',
            ['video_id', 'channel_id'],
            'collection_date',
            [
                'video_id', 'channel_id', 'collection_date', 'collected_at',
                'view_count', 'like_count', 'comment_count', 'dlt_load_id',
            ],
            changed_from,
            late_days,
        ) }}
    ),
{% endif %}

-- A video first seen within new_entity_days of publication counts from zero;
-- the publication day is looked up only for a video's first snapshot.
{%- set starts_from_zero = video_starts_from_zero('false') %}

differenced as (
    {{ counter_deltas(
        'to_difference' if is_incremental() else 'snapshots',
        ['video_id', 'channel_id'],
        'collection_date',
        {
            'view_count': 'views_daily',
            'like_count': 'likes_daily',
            'comment_count': 'comments_daily',
        },
        starts_from_zero,
        carried=['collected_at', 'dlt_load_id'],
    ) }}
),

final as (
    select
        *,
        {{ built_at() }} as built_at
    from differenced
    {% if is_incremental() %}
        where {{ rewritten('collection_date', changed_from, late_days) }}
    {% else %}
        -- Days stored contiguously: daily runs read and replace recent days.
        order by collection_date, video_id
    {% endif %}
)

select * from final
