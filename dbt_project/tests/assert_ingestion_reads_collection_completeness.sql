-- One definition of a complete day (docs block collection_status): every day
-- fct_ingestion_daily holds says of its collection what fct_collection_status
-- says, the days a late snapshot changed included. Returns the days where
-- they differ.
{{ config(meta={'docs_claim': 'collection_status'}) }}

with

ingestion as (
    select
        metric_date,
        channels_expected,
        channels_missing,
        is_collection_complete
    from {{ ref('fct_ingestion_daily') }}
),

collection as (
    select
        metric_date,
        channels_expected,
        channels_missing,
        is_complete
    from {{ ref('fct_collection_status') }}
),

final as (
    select
        coalesce(ingestion.metric_date, collection.metric_date) as metric_date,
        ingestion.is_collection_complete,
        collection.is_complete
    from ingestion
    full outer join collection on ingestion.metric_date = collection.metric_date
    where
        (
            ingestion.channels_expected,
            ingestion.channels_missing,
            ingestion.is_collection_complete
        )
        is distinct from (
            collection.channels_expected,
            collection.channels_missing,
            collection.is_complete
        )
)

select * from final
