-- The rows of the channels' channel_reach_basic reports (thumbnail impressions
-- and their click-through rate per video and day), typed, one per report row.
-- The table appears with the Reporting lander's first load of the family:
-- until then this view reads no rows (macro landed_rows).
with

source as (
    {{ landed_rows(source('youtube_reporting', 'channel_reach_basic'), {
        'report_id': 'text',
        'report_row': 'bigint',
        'report_type_id': 'text',
        'create_time': 'timestamptz',
        'date': 'date',
        'channel_id': 'text',
        'video_id': 'text',
        'video_thumbnail_impressions': 'bigint',
        'video_thumbnail_impressions_ctr': 'double precision'
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
        nullif(video_id, '')::text as video_id,
        coalesce(video_thumbnail_impressions, 0)::bigint as video_thumbnail_impressions,
        -- a fraction (0.05 is 5 %), as YouTube reports it
        video_thumbnail_impressions_ctr::double precision
            as video_thumbnail_impressions_ctr
    from source
)

select * from final
