-- The days that are incomplete (an expected channel or video not collected)
-- or not final (inside the lookback window, so a late snapshot can still
-- rewrite them), with the channels missing on each incomplete day. A day
-- that is only not final has one row with missing_channel_id null. One join
-- (the platform's current channels) and one anti-join (their rows that day).
with

open_days as (
    select
        metric_date,
        collected_at,
        channels_expected,
        channels_collected,
        videos_expected,
        videos_collected,
        is_complete,
        is_final
    from {{ ref('fct_collection_status') }}
    where not is_complete or not is_final
),

final as (
    select
        open_days.metric_date,
        open_days.is_complete,
        open_days.is_final,
        open_days.collected_at,
        open_days.channels_expected,
        open_days.channels_collected,
        open_days.videos_expected,
        open_days.videos_collected,
        channels.channel_id as missing_channel_id,
        channels.channel_title as missing_channel_title
    from open_days
    left join {{ ref('dim_channels') }} as channels
        on
            not open_days.is_complete
            and channels.is_current
            and channels.channel_status <> 'external'
            and not exists (
                select
                from {{ ref('fct_channel_daily_metrics') }} as collected
                where
                    collected.channel_id = channels.channel_id
                    and collected.metric_date = open_days.metric_date
            )
)

select * from final
order by metric_date, missing_channel_id
