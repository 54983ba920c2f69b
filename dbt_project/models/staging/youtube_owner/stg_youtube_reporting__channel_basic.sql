-- The rows of the channels' channel_basic reports, typed, one per report row.
-- raw_youtube_reporting.channel_basic appears with the Reporting lander's
-- first load: until then this view reads no rows (macro landed_rows), and a
-- column an older report version lacks (engaged_views before _a3) reads null.
{{ reporting_report_rows('channel_basic',
    reporting_key_columns() + reporting_watch_columns() + [
        reporting_count_column('likes'),
        reporting_count_column('dislikes'),
        reporting_count_column('comments'),
        reporting_count_column('shares'),
        reporting_count_column('subscribers_gained'),
        reporting_count_column('subscribers_lost'),
    ]
) }}
