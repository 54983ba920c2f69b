-- How many video snapshots each dlt load landed for each collection day.
-- Incremental models compare it with the loads their stored rows came from to
-- find the days that changed: a filter on collection_date reaches the raw
-- table's date index, and nothing is deduplicated or hashed.
with

source as (
    select
        collection_date,
        _dlt_load_id
    from {{ source('youtube', 'video_snapshots') }}
),

final as (
    select
        collection_date::date as collection_date,
        _dlt_load_id::text as dlt_load_id,
        count(*)::bigint as snapshot_count
    from source
    group by collection_date, _dlt_load_id
)

select * from final
