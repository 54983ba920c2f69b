{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='platform_video_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['platform_video_id'], 'unique': true},
            {'columns': ['last_event_at']},
            {'columns': ['youtube_video_id']},
        ],
    )
}}

{%- if is_incremental() %}
    {%- set events_start = incremental_window_start_at('last_event_at')
        ~ " - interval '" ~ var('max_gap_days') ~ " days'" %}
{%- endif %}

-- One row per platform video: when each lifecycle step first happened and
-- the attributes its events carried (the latest quality score wins).
-- Incremental runs re-pivot the videos with an event in the lookback window
-- from the events of the last lookback_days + max_gap_days: a lifecycle is
-- assumed to span less than max_gap_days (steps follow within hours).
with

events as (
    select
        platform_video_id,
        channel_id,
        event_type,
        occurred_at,
        payload,
        youtube_video_id
    from {{ ref('stg_events__events') }}
    where
        platform_video_id is not null
        and event_type in (
            'video_generated', 'video_uploaded', 'video_published', 'quality_check'
        )
        {% if is_incremental() %}
            and occurred_at >= {{ events_start }}
        {% endif %}
),

pivoted as (
    select
        platform_video_id,
        max(channel_id) as channel_id,
        max(occurred_at) as last_event_at,
        max(youtube_video_id) as youtube_video_id,
        min(occurred_at) filter (where event_type = 'video_generated') as generated_at,
        min(occurred_at) filter (where event_type = 'video_uploaded') as uploaded_at,
        min(occurred_at) filter (where event_type = 'video_published') as published_at,
        min(occurred_at) filter (where event_type = 'quality_check')
            as quality_checked_at,
        max((payload ->> 'generation_cost_usd')::numeric) filter (
            where event_type = 'video_generated'
        ) as generation_cost_usd,
        max((payload ->> 'duration_seconds')::integer) filter (
            where event_type = 'video_generated'
        ) as duration_seconds,
        max(payload ->> 'niche') filter (where event_type = 'video_generated') as niche,
        (array_agg(
            (payload ->> 'quality_score')::numeric order by occurred_at desc
        ) filter (where event_type = 'quality_check'))[1] as quality_score
    from events
    group by platform_video_id
),

final as (
    select
        platform_video_id,
        channel_id,
        youtube_video_id,
        generated_at,
        uploaded_at,
        published_at,
        quality_checked_at,
        generation_cost_usd::numeric(6, 4) as generation_cost_usd,
        duration_seconds,
        niche,
        quality_score::numeric(5, 2) as quality_score,
        extract(epoch from uploaded_at - generated_at)::bigint
            as generate_to_upload_seconds,
        extract(epoch from published_at - uploaded_at)::bigint
            as upload_to_publish_seconds,
        extract(epoch from quality_checked_at - published_at)::bigint
            as publish_to_quality_check_seconds,
        extract(epoch from published_at - generated_at)::bigint
            as generate_to_publish_seconds,
        case
            when quality_checked_at is not null then 'quality_checked'
            when published_at is not null then 'published'
            when uploaded_at is not null then 'uploaded'
            when generated_at is not null then 'generated'
        end as lifecycle_stage,
        last_event_at
    from pivoted
    {% if is_incremental() %}
        where last_event_at >= {{ incremental_window_start_at('last_event_at') }}
    {% endif %}
)

select * from final
