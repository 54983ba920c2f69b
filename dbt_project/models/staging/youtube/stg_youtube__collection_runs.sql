-- One row per collector run. The table appears with the first run that had
-- work to do, and channels_failed with the lander that records it: both read
-- as absent (no rows, null) until then.
with

source as (
    {{ landed_rows(source('youtube', 'collection_runs'), {
        'run_id': 'text',
        'collection_date': 'date',
        'started_at': 'timestamptz',
        'finished_at': 'timestamptz',
        'status': 'text',
        'quota_units_used': 'bigint',
        'channels_collected': 'bigint',
        'channels_failed': 'bigint',
        'videos_collected': 'bigint',
        'error': 'text',
    }) }}
),

final as (
    select
        run_id::text as run_id,
        collection_date::date as collection_date,
        started_at::timestamptz as started_at,
        finished_at::timestamptz as finished_at,
        status::text as run_status,
        quota_units_used::bigint as quota_units_used,
        channels_collected::integer as channels_collected,
        channels_failed::integer as channels_failed,
        videos_collected::integer as videos_collected,
        error::text as error_message
    from source
)

select * from final
