with

source as (
    select
        event_id,
        event_type,
        schema_version,
        occurred_at,
        channel_id,
        video_id,
        payload,
        kafka_topic,
        kafka_partition,
        kafka_offset,
        kafka_timestamp
    from {{ source('events', 'events') }}
),

-- A producer retry can publish one event twice at two offsets: keep the
-- first. A retried event has the same type and time, and keeping them in the
-- distinct-on key lets filters on event_type and occurred_at reach the raw
-- table's indexes through this view.
deduplicated as (
    select distinct on (event_id, event_type, occurred_at) *
    from source
    order by event_id asc, event_type asc, occurred_at asc, kafka_offset asc
),

final as (
    select
        event_id::text as event_id,
        event_type::text as event_type,
        schema_version::integer as schema_version,
        occurred_at::timestamptz as occurred_at,
        {{ to_reporting_date('occurred_at::timestamptz') }} as occurred_date,
        channel_id::text as channel_id,
        video_id::text as platform_video_id,
        payload::jsonb as payload,
        nullif(payload::jsonb ->> 'youtube_video_id', '') as youtube_video_id,
        kafka_topic::text as kafka_topic,
        kafka_partition::integer as kafka_partition,
        kafka_offset::bigint as kafka_offset,
        kafka_timestamp::timestamptz as kafka_timestamp
    from deduplicated
)

select * from final
