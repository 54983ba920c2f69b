-- The rows of the channels' channel_demographics reports (the share of a
-- group's views by age group and gender), typed, one per report row.
-- The table appears with the Reporting lander's first load of the family:
-- until then this view reads no rows (macro landed_rows).
{{ reporting_report_rows('channel_demographics',
    reporting_key_columns() + [
        {'name': 'age_group', 'raw': 'text', 'typed': 'age_group::text'},
        {'name': 'gender', 'raw': 'text', 'typed': 'gender::text'},
        {'name': 'views_percentage', 'raw': 'double precision',
         'typed': 'views_percentage::double precision', 'alias': 'views_pct'},
    ]
) }}
