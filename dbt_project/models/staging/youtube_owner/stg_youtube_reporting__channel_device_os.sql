-- The rows of the channels' channel_device_os reports (views by device type
-- and operating system), typed, one per report row.
-- The table appears with the Reporting lander's first load of the family:
-- until then this view reads no rows (macro landed_rows).
{{ reporting_report_rows('channel_device_os',
    reporting_key_columns() + [
        {'name': 'device_type', 'raw': 'bigint', 'typed': "device_type::integer"},
        {'name': 'operating_system', 'raw': 'bigint', 'typed': "operating_system::integer"},
    ] + reporting_watch_columns()
) }}
