-- The rows of the channels' channel_traffic_source reports (views by traffic
-- source), typed, one per report row.
-- The table appears with the Reporting lander's first load of the family:
-- until then this view reads no rows (macro landed_rows).
{{ reporting_report_rows('channel_traffic_source',
    reporting_key_columns() + [
        {'name': 'traffic_source_type', 'raw': 'bigint', 'typed': "traffic_source_type::integer"},
        {'name': 'traffic_source_detail', 'raw': 'text', 'typed': "nullif(traffic_source_detail, '')::text"},
    ] + reporting_watch_columns()
) }}
