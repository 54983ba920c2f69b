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
        _dlt_load_id
    from {{ source('youtube', 'videos') }}
),

deduplicated as (
    select distinct on (video_id) *
    from source
    order by video_id asc, _dlt_load_id desc
),

final as (
    select
        video_id::text as video_id,
        channel_id::text as channel_id,
        title::text as video_title,
        published_at::timestamptz as published_at,
        {{ to_reporting_date('published_at::timestamptz') }} as published_date,
        duration_seconds::integer as duration_seconds,
        duration_iso::text as duration_iso,
        category_id::text as category_id,
        tags::jsonb as tags,
        definition::text as video_definition,
        first_seen_date::date as first_seen_date
    from deduplicated
)

select * from final
