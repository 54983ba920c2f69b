with

source as (
    select
        channel_id,
        title,
        niche,
        status,
        created_at,
        updated_at
    from {{ source('ytempire', 'channels') }}
),

final as (
    select
        channel_id,
        title as channel_title,
        coalesce(niche, 'unknown') as niche,
        status as channel_status,
        created_at,
        updated_at
    from source
)

select * from final
