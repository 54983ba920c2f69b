with

-- A counter YouTube omits (hidden likes, disabled comments) lands as null,
-- or, when a whole load omitted it, as no column at all: both stay null.
source as (
    select
        video_id,
        collection_date,
        channel_id,
        collected_at,
        {{ columns_or_null(source('youtube', 'video_snapshots'), {
            'view_count': 'bigint',
            'like_count': 'bigint',
            'comment_count': 'bigint',
        }) }},
        _dlt_load_id
    from {{ source('youtube', 'video_snapshots') }}
),

deduplicated as (
    select distinct on (video_id, collection_date) *
    from source
    order by video_id asc, collection_date asc, collected_at desc, _dlt_load_id desc
),

final as (
    select
        video_id::text as video_id,
        collection_date::date as collection_date,
        channel_id::text as channel_id,
        collected_at::timestamptz as collected_at,
        view_count::bigint as view_count,
        like_count::bigint as like_count,
        comment_count::bigint as comment_count,
        _dlt_load_id::text as dlt_load_id
    from deduplicated
)

select * from final
