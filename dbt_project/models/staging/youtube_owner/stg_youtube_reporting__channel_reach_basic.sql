-- The rows of the channels' channel_reach_basic reports (thumbnail impressions
-- and their click-through rate per video and day), typed, one per report row.
-- The table appears with the Reporting lander's first load of the family:
-- until then this view reads no rows (macro landed_rows).
-- video_thumbnail_impressions_ctr is a fraction (0.05 is 5 %), as YouTube reports it.
{{ reporting_report_rows('channel_reach_basic',
    reporting_key_columns(audience=false) + [
        reporting_count_column('video_thumbnail_impressions'),
        {'name': 'video_thumbnail_impressions_ctr', 'raw': 'double precision',
         'typed': 'video_thumbnail_impressions_ctr::double precision'},
    ]
) }}
