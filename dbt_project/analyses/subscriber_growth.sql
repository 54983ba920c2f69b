-- Subscriber growth day over day on the newest metric day, per channel, and
-- whether the channel lost subscribers. Growth is against the channel's
-- previous snapshot (days_since_previous says how many days that spans); a
-- baseline day has no growth and is left out. One join: the current channel.
with

newest_day as (
    select
        channel_id,
        metric_date,
        days_since_previous,
        subscribers,
        subscribers_daily,
        subscriber_growth_pct
    from {{ ref('fct_channel_daily_metrics') }}
    where
        not is_baseline
        and metric_date = (
            select max(newest.metric_date)
            from {{ ref('fct_channel_daily_metrics') }} as newest
        )
),

final as (
    select
        newest_day.metric_date,
        newest_day.channel_id,
        channels.channel_title,
        newest_day.days_since_previous,
        newest_day.subscribers,
        newest_day.subscribers_daily,
        newest_day.subscriber_growth_pct,
        newest_day.subscribers_daily < 0 as has_lost_subscribers
    from newest_day
    left join {{ ref('dim_channels') }} as channels
        on newest_day.channel_id = channels.channel_id and channels.is_current
)

select * from final
order by has_lost_subscribers desc, subscriber_growth_pct asc, channel_id asc
