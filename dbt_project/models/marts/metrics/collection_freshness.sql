{{ config(materialized='view') }}

-- One row: how fresh the warehouse is right now (the only mart that reads the
-- clock, so it is a view, evaluated at query time).
with

collection_days as (
    select
        metric_date,
        collected_at,
        is_complete,
        is_final
    from {{ ref('fct_collection_status') }}
),

summary as (
    select
        max(metric_date) as newest_metric_date,
        max(collected_at) as newest_collected_at,
        max(metric_date) filter (where is_complete) as newest_complete_date,
        max(metric_date) filter (where is_final) as newest_final_date,
        count(*) filter (where not is_final) as days_not_final,
        count(*) filter (where not is_complete) as days_incomplete
    from collection_days
),

final as (
    select
        now() as as_of_at,
        newest_metric_date,
        newest_collected_at,
        round(
            (extract(epoch from now() - newest_collected_at) / 3600)::numeric, 1
        ) as hours_since_collected,
        newest_complete_date,
        newest_final_date,
        days_not_final,
        days_incomplete
    from summary
)

select * from final
