with

-- A hidden subscriber count is unknown, whether YouTube omits it or sends a
-- placeholder next to hiddenSubscriberCount: null, never 0.
source as (
    select
        channel_id,
        collection_date,
        collected_at,
        title,
        published_at,
        country,
        {{ columns_or_null(source('youtube', 'channel_snapshots'), {
            'subscriber_count': 'bigint',
            'view_count': 'bigint',
            'video_count': 'bigint',
            'hidden_subscriber_count': 'boolean',
        }) }},
        _dlt_load_id
    from {{ source('youtube', 'channel_snapshots') }}
),

-- dlt merges on (channel_id, collection_date); keep the latest landing anyway
-- so a lander that appends instead of merging cannot double a day.
deduplicated as (
    select distinct on (channel_id, collection_date) *
    from source
    order by channel_id asc, collection_date asc, collected_at desc, _dlt_load_id desc
),

final as (
    select
        channel_id::text as channel_id,
        collection_date::date as collection_date,
        collected_at::timestamptz as collected_at,
        title::text as channel_title,
        published_at::timestamptz as channel_published_at,
        country::text as country_code,
        case
            when not coalesce(hidden_subscriber_count, false)
                then subscriber_count::bigint
        end as subscriber_count,
        view_count::bigint as view_count,
        video_count::bigint as video_count,
        coalesce(hidden_subscriber_count, false) as is_subscriber_count_hidden,
        _dlt_load_id::text as dlt_load_id
    from deduplicated
)

select * from final
