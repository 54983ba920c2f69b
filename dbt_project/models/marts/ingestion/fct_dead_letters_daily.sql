-- One row per day, Kafka topic and rejection reason: the records the events
-- landing dead-lettered (raw_events.dead_letters, none before the first).
with

dead_letters as (
    select
        dead_letter_date,
        kafka_topic,
        kafka_partition,
        reason,
        dead_lettered_at
    from {{ ref('stg_events__dead_letters') }}
),

final as (
    select
        dead_letter_date as metric_date,
        kafka_topic,
        reason,
        count(*) as dead_letters,
        count(distinct kafka_partition) as kafka_partitions,
        min(dead_lettered_at) as first_dead_lettered_at,
        max(dead_lettered_at) as last_dead_lettered_at
    from dead_letters
    group by dead_letter_date, kafka_topic, reason
)

select * from final
