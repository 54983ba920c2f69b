{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='platform_video_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['platform_video_id'], 'unique': true},
            {'columns': ['last_event_at']},
        ],
    )
}}

-- One row per platform video: the lifecycle timestamps and the latency of
-- each step (generated -> uploaded -> published -> quality checked).
with

lifecycle as (
    select
        platform_video_id,
        channel_id,
        youtube_video_id,
        generated_at,
        uploaded_at,
        published_at,
        quality_checked_at,
        generate_to_upload_seconds,
        upload_to_publish_seconds,
        publish_to_quality_check_seconds,
        generate_to_publish_seconds,
        generation_cost_usd,
        quality_score,
        lifecycle_stage,
        last_event_at
    from {{ ref('int_video_events_pivoted') }}
    {% if is_incremental() %}
        where last_event_at >= {{ incremental_window_start_at('last_event_at') }}
    {% endif %}
),

final as (
    select
        platform_video_id::text as platform_video_id,
        channel_id::text as channel_id,
        youtube_video_id::text as youtube_video_id,
        lifecycle_stage::text as lifecycle_stage,
        generated_at::timestamptz as generated_at,
        uploaded_at::timestamptz as uploaded_at,
        published_at::timestamptz as published_at,
        quality_checked_at::timestamptz as quality_checked_at,
        generate_to_upload_seconds::bigint as generate_to_upload_seconds,
        upload_to_publish_seconds::bigint as upload_to_publish_seconds,
        publish_to_quality_check_seconds::bigint as publish_to_quality_check_seconds,
        generate_to_publish_seconds::bigint as generate_to_publish_seconds,
        generation_cost_usd::numeric(6, 4) as generation_cost_usd,
        quality_score::numeric(5, 2) as quality_score,
        last_event_at::timestamptz as last_event_at
    from lifecycle
    {% if not is_incremental() %}
        -- Stored in event order: daily runs rewrite the newest videos' rows.
        order by last_event_at, platform_video_id
    {% endif %}
)

select * from final
