{{ config(materialized='view') }}

-- One row per collection day: when it was collected, the channels and videos
-- expected against those collected, and whether the day is complete (the one
-- definition: fct_ingestion_daily reads it) and final.
with

collection_days as (
    select
        collection_date,
        first_collected_at,
        collected_at,
        channels_expected,
        channels_collected,
        channels_failed,
        videos_expected,
        videos_collected
    from {{ ref('int_collection_days_counted') }}
),

newest as (
    select max(collection_date) as newest_date from collection_days
),

final as (
    select
        collection_days.collection_date as metric_date,
        collection_days.first_collected_at,
        collection_days.collected_at,
        collection_days.channels_expected,
        collection_days.channels_collected,
        collection_days.channels_expected - collection_days.channels_collected
            as channels_missing,
        collection_days.channels_failed,
        collection_days.videos_expected,
        collection_days.videos_collected,
        collection_days.videos_expected - collection_days.videos_collected
            as videos_missing,
        (
            collection_days.channels_collected = collection_days.channels_expected
            and collection_days.channels_failed = 0
            and collection_days.videos_collected = collection_days.videos_expected
        ) as is_complete,
        {{ is_final('collection_days.collection_date', 'newest.newest_date') }}
            as is_final
    from collection_days
    cross join newest
)

select * from final
