-- The rows of the channels' channel_demographics reports (the share of a
-- group's views by age group and gender), typed, one per report row.
-- The table appears with the Reporting lander's first load of the family:
-- until then this view reads no rows (macro landed_rows).
with

source as (
    {{ landed_rows(source('youtube_reporting', 'channel_demographics'), {
        'report_id': 'text',
        'report_row': 'bigint',
        'report_type_id': 'text',
        'create_time': 'timestamptz',
        'date': 'date',
        'channel_id': 'text',
        'video_id': 'text',
        'live_or_on_demand': 'text',
        'subscribed_status': 'text',
        'country_code': 'text',
        'age_group': 'text',
        'gender': 'text',
        'views_percentage': 'double precision'
    }) }}
),

final as (
    select
        report_id::text as report_id,
        report_row::integer as report_row,
        report_type_id::text as report_type_id,
        create_time::timestamptz as report_created_at,
        date::date as metric_date,
        channel_id::text as channel_id,
        -- YouTube's rows of the channel's deleted videos have an empty video_id
        nullif(video_id, '')::text as video_id,
        live_or_on_demand::text as live_or_on_demand,
        subscribed_status::text as subscribed_status,
        nullif(country_code, '')::text as country_code,
        age_group::text as age_group,
        gender::text as gender,
        views_percentage::double precision as views_pct
    from source
)

select * from final
