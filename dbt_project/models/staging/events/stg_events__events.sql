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

-- No deduplication here: event_id is unique in the raw table. A producer
-- retry that publishes one event twice at two offsets lands once, at its
-- first offset, by the landing's unique key on event_id (LANDING_KEYS in
-- ingestion/kafka_events/destination.py); the unique test on this model
-- checks it. A distinct on here sorted every event a model reads with its
-- jsonb payload, every run, to drop nothing (dbt_project/README.md, "What a
-- daily build costs").
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
    from source
)

select * from final
