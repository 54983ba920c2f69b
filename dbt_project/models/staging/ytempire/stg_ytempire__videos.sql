with

source as (
    select
        video_id,
        channel_id,
        status,
        youtube_video_id,
        duration_seconds,
        quality_score,
        generation_cost_usd,
        published_at,
        created_at
    from {{ source('ytempire', 'videos') }}
),

final as (
    select
        video_id::text as platform_video_id,
        channel_id,
        status as video_status,
        youtube_video_id,
        duration_seconds,
        quality_score::numeric(5, 2) as quality_score,
        generation_cost_usd::numeric(6, 4) as generation_cost_usd,
        published_at,
        created_at
    from source
)

select * from final
