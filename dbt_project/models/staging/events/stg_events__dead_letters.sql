-- raw_events.dead_letters appears with the first dead letter: until then this
-- view reads no rows (macro landed_rows), so the ingestion marts build on a
-- fresh warehouse.
with

source as (
    {{ landed_rows(source('events', 'dead_letters'), {
        'kafka_topic': 'text',
        'kafka_partition': 'bigint',
        'kafka_offset': 'bigint',
        'kafka_timestamp': 'timestamptz',
        'reason': 'text',
        'dead_lettered_at': 'timestamptz',
    }) }}
),

final as (
    select
        kafka_topic::text as kafka_topic,
        kafka_partition::integer as kafka_partition,
        kafka_offset::bigint as kafka_offset,
        kafka_timestamp::timestamptz as kafka_timestamp,
        reason::text as reason,
        dead_lettered_at::timestamptz as dead_lettered_at,
        -- The day the record reached Kafka, as for landed events; a record
        -- without a timestamp counts on the day it was dead-lettered.
        {{ to_reporting_date('coalesce(kafka_timestamp, dead_lettered_at)') }}
            as dead_letter_date
    from source
)

select * from final
