-- Current attributes of each channel: the latest API snapshot joined to the
-- platform's own record. snapshots/snap_channels keeps their history.
with

latest_snapshots as (
    select distinct on (channel_id)
        channel_id,
        channel_title,
        channel_published_at,
        country_code,
        collection_date
    from {{ ref('stg_youtube__channel_snapshots') }}
    order by channel_id asc, collection_date desc
),

platform_channels as (
    select
        channel_id,
        channel_title,
        niche,
        channel_status
    from {{ ref('stg_ytempire__channels') }}
),

joined as (
    select
        coalesce(latest_snapshots.channel_id, platform_channels.channel_id)
            as channel_id,
        coalesce(latest_snapshots.channel_title, platform_channels.channel_title)
            as channel_title,
        latest_snapshots.channel_published_at,
        latest_snapshots.country_code,
        coalesce(platform_channels.niche, 'unknown') as niche,
        coalesce(platform_channels.channel_status, 'external') as channel_status,
        latest_snapshots.collection_date as observed_date
    from latest_snapshots
    full outer join platform_channels
        on latest_snapshots.channel_id = platform_channels.channel_id
),

final as (
    select * from joined
)

select * from final
