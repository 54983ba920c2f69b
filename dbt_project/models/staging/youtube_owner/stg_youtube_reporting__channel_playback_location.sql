-- The rows of the channels' channel_playback_location reports (views by where
-- the video played), typed, one per report row.
-- The table appears with the Reporting lander's first load of the family:
-- until then this view reads no rows (macro landed_rows).
{{ reporting_report_rows('channel_playback_location',
    reporting_key_columns() + [
        {'name': 'playback_location_type', 'raw': 'bigint', 'typed': "playback_location_type::integer"},
        {'name': 'playback_location_detail', 'raw': 'text', 'typed': "nullif(playback_location_detail, '')::text"},
    ] + reporting_watch_columns()
) }}
