-- The base CPM of each channel: a channel override, else its niche's CPM
-- calibrated from the actuals of the niche's other channels (docs block
-- cpm_calibration), else its niche's override, else the default (var
-- default_base_cpm_usd). seed_base_cpm_usd is the CPM without calibration,
-- the tier the estimate used before (the "before" of its error).
with

channels as (
    select
        channel_id,
        niche
    from {{ ref('stg_ytempire__channels') }}
),

overrides as (
    select
        override_scope,
        scope_value,
        base_cpm_usd
    from {{ ref('channel_cpm_overrides') }}
),

calibrated as (
    select
        channel_id,
        calibrated_base_cpm_usd
    from {{ ref('int_channels_cpm_calibrated') }}
),

resolved as (
    select
        channels.channel_id,
        channels.niche,
        coalesce(
            channel_override.base_cpm_usd,
            calibrated.calibrated_base_cpm_usd,
            niche_override.base_cpm_usd,
            {{ var('default_base_cpm_usd') }}
        )::numeric(10, 4) as base_cpm_usd,
        case
            when channel_override.base_cpm_usd is not null then 'channel'
            when calibrated.calibrated_base_cpm_usd is not null then 'calibrated'
            when niche_override.base_cpm_usd is not null then 'niche'
            else 'default'
        end as cpm_source,
        coalesce(
            channel_override.base_cpm_usd,
            niche_override.base_cpm_usd,
            {{ var('default_base_cpm_usd') }}
        )::numeric(10, 4) as seed_base_cpm_usd
    from channels
    left join overrides as channel_override
        on
            channel_override.override_scope = 'channel'
            and channels.channel_id = channel_override.scope_value
    left join calibrated
        on channels.channel_id = calibrated.channel_id
    left join overrides as niche_override
        on
            niche_override.override_scope = 'niche'
            and channels.niche = niche_override.scope_value
),

final as (
    select * from resolved
)

select * from final
