-- One row per channel a collector run did not collect in full, with why
-- (collection_runs.channel_issues: no_uploads, not_found, gone, failed). Read
-- as no rows until the table, and then the column, is landed.
with

source as (
    {{ landed_rows(source('youtube', 'collection_runs'), {
        'run_id': 'text',
        'collection_date': 'date',
        'started_at': 'timestamptz',
        'channel_issues': 'json',
    }) }}
),

issues as (
    select
        source.run_id,
        source.collection_date,
        source.started_at,
        issue.key as channel_id,
        issue.value ->> 'status' as issue_status,
        issue.value ->> 'reason' as issue_reason
    from source
    cross join lateral jsonb_each(source.channel_issues::jsonb) as issue
),

final as (
    select
        run_id::text as run_id,
        collection_date::date as collection_date,
        started_at::timestamptz as started_at,
        channel_id::text as channel_id,
        issue_status::text as issue_status,
        issue_reason::text as issue_reason
    from issues
)

select * from final
