-- Every version of every channel's attributes, from snapshots/snap_channels.
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
        dbt_valid_from,
        dbt_valid_to
    from {{ ref('snap_channels') }}
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
        dbt_valid_from::timestamptz as valid_from,
        dbt_valid_to::timestamptz as valid_to,
        (dbt_valid_to is null) as is_current
    from snapshot_rows
)

select * from final
