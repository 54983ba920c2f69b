with

source as (
    select
        video_id,
        channel_id,
        title,
        published_at,
        duration_seconds,
        duration_iso,
        category_id,
        tags,
        definition,
        first_seen_date,
        {{ columns_or_null(source('youtube', 'videos'), {
            'live_broadcast_content': 'text',
        }) }},
        _dlt_load_id
    from {{ source('youtube', 'videos') }}
),

deduplicated as (
    select distinct on (video_id) *
    from source
    order by video_id asc, _dlt_load_id desc
),

-- A live stream or an upcoming premiere has no duration yet: YouTube reports
-- P0D and liveBroadcastContent live/upcoming. Its length is unknown (null),
-- not 0 seconds; a zero duration without the broadcast state likewise.
broadcasts as (
    select
        *,
        coalesce(live_broadcast_content in ('live', 'upcoming'), false)
        or coalesce(duration_seconds = 0, false) as has_no_duration_yet
    from deduplicated
),

final as (
    select
        video_id::text as video_id,
        channel_id::text as channel_id,
        title::text as video_title,
        published_at::timestamptz as published_at,
        {{ to_reporting_date('published_at::timestamptz') }} as published_date,
        case
            when not has_no_duration_yet then duration_seconds::integer
        end as duration_seconds,
        duration_iso::text as duration_iso,
        live_broadcast_content::text as live_broadcast_content,
        category_id::text as category_id,
        tags::jsonb as tags,
        definition::text as video_definition,
        first_seen_date::date as first_seen_date
    from broadcasts
)

select * from final
