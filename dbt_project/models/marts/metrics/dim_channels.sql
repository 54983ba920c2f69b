-- Every version of every channel's attributes, from snapshots/snap_channels,
-- valid over business dates: join a fact's metric_date with
-- `metric_date >= valid_from_date and metric_date < valid_to_date`.
with

snapshot_rows as (
    select
        dbt_scd_id,
        channel_id,
        channel_title,
        channel_published_at,
        country_code,
        niche,
        channel_status,
        observed_date,
        dbt_valid_from,
        dbt_valid_to
    from {{ ref('snap_channels') }}
),

-- A version holds from the collection day it was observed on (the run's
-- reporting day when no API snapshot saw it); a channel's first version holds
-- from the start, so every metric day finds exactly one version.
dated as (
    select
        *,
        case
            when row_number() over by_channel = 1 then date '0001-01-01'
            else coalesce(observed_date, {{ to_reporting_date('dbt_valid_from') }})
        end as valid_from_date
    from snapshot_rows
    window by_channel as (partition by channel_id order by dbt_valid_from)
),

final as (
    select
        dbt_scd_id::text as channel_version_id,
        channel_id::text as channel_id,
        channel_title::text as channel_title,
        channel_published_at::timestamptz as channel_published_at,
        country_code::text as country_code,
        niche::text as niche,
        channel_status::text as channel_status,
        valid_from_date::date as valid_from_date,
        coalesce(
            lead(valid_from_date) over by_channel, date '9999-12-31'
        )::date as valid_to_date,
        dbt_valid_from::timestamptz as recorded_at,
        dbt_valid_to::timestamptz as superseded_at,
        (dbt_valid_to is null) as is_current
    from dated
    window by_channel as (partition by channel_id order by dbt_valid_from)
)

select * from final
