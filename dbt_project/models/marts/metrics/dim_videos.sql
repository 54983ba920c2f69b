{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='video_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['video_id'], 'unique': true},
            {'columns': ['channel_id', 'published_at']},
        ],
    )
}}

-- Incremental runs rebuild the videos first seen in the lookback window, those
-- whose lifecycle changed in it, and any video landed late (first seen on an
-- older day, never built).
with

youtube_videos as (
    select
        staged.video_id,
        staged.channel_id,
        staged.video_title,
        staged.published_at,
        staged.published_date,
        staged.duration_seconds,
        staged.duration_iso,
        staged.live_broadcast_content,
        staged.category_id,
        staged.video_definition,
        staged.first_seen_date
    from {{ ref('stg_youtube__videos') }} as staged
    {% if is_incremental() %}
        {#- A join, not `not in (select ...)`: PostgreSQL hashes that
            subquery only while it fits in work_mem (about 1.2 M video ids
            at 32 MB), and beyond compares every staged video with every
            built one. The join is hashed in batches at any size. #}
        left join {{ this }} as built on staged.video_id = built.video_id
        where staged.first_seen_date >= {{ incremental_window_start('first_seen_date') }}
            or staged.video_id in (
                select changed.youtube_video_id
                from {{ ref('int_video_events_pivoted') }} as changed
                where changed.last_event_at
                    >= {{ incremental_window_start_at('lifecycle_updated_at') }}
            )
            or (built.video_id is null and staged.video_id is not null)
    {% endif %}
),

lifecycle as (
    select
        youtube_video_id,
        platform_video_id,
        generation_cost_usd,
        quality_score,
        niche,
        last_event_at
    from {{ ref('int_video_events_pivoted') }}
    where youtube_video_id is not null
),

platform_videos as (
    select
        youtube_video_id,
        platform_video_id,
        quality_score,
        generation_cost_usd
    from {{ ref('stg_ytempire__videos') }}
    where youtube_video_id is not null
),

channels as (
    select
        channel_id,
        niche
    from {{ ref('stg_ytempire__channels') }}
),

joined as (
    select
        youtube_videos.video_id,
        coalesce(lifecycle.platform_video_id, platform_videos.platform_video_id)
            as platform_video_id,
        youtube_videos.channel_id,
        youtube_videos.video_title,
        youtube_videos.published_at,
        youtube_videos.published_date,
        youtube_videos.duration_seconds,
        youtube_videos.duration_iso,
        youtube_videos.live_broadcast_content,
        {{ duration_status(
            'youtube_videos.duration_seconds', 'youtube_videos.live_broadcast_content'
        ) }} as duration_status,
        youtube_videos.category_id,
        youtube_videos.video_definition,
        youtube_videos.first_seen_date,
        coalesce(lifecycle.niche, channels.niche, 'unknown') as niche,
        coalesce(lifecycle.quality_score, platform_videos.quality_score)
            as quality_score,
        coalesce(lifecycle.generation_cost_usd, platform_videos.generation_cost_usd)
            as generation_cost_usd,
        lifecycle.last_event_at as lifecycle_updated_at
    from youtube_videos
    left join lifecycle on youtube_videos.video_id = lifecycle.youtube_video_id
    left join platform_videos
        on youtube_videos.video_id = platform_videos.youtube_video_id
    left join channels on youtube_videos.channel_id = channels.channel_id
),

final as (
    select
        video_id::text as video_id,
        platform_video_id::text as platform_video_id,
        channel_id::text as channel_id,
        video_title::text as video_title,
        published_at::timestamptz as published_at,
        published_date::date as published_date,
        duration_seconds::integer as duration_seconds,
        duration_iso::text as duration_iso,
        live_broadcast_content::text as live_broadcast_content,
        duration_status::text as duration_status,
        category_id::text as category_id,
        video_definition::text as video_definition,
        first_seen_date::date as first_seen_date,
        niche::text as niche,
        quality_score::numeric(5, 2) as quality_score,
        generation_cost_usd::numeric(6, 4) as generation_cost_usd,
        (platform_video_id is not null) as is_platform_generated,
        lifecycle_updated_at::timestamptz as lifecycle_updated_at
    from joined
    {% if not is_incremental() %}
        -- Stored in order of first sight: daily runs rewrite the newest rows.
        order by first_seen_date, video_id
    {% endif %}
)

select * from final
