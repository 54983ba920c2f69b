-- One row per channel, report family and day: the newest report landed for it
-- (a regenerated report supersedes the one before, as its rows replaced them
-- in the family table). A day whose newest report was header-only is no_data:
-- YouTube had nothing to report, which is not the same as a missing day.
with

source as (
    {{ landed_rows(source('youtube_reporting', 'reports'), {
        'report_id': 'text',
        'channel_id': 'text',
        'report_type_id': 'text',
        'report_family': 'text',
        'report_date': 'date',
        'create_time': 'timestamptz',
        'status': 'text',
        'row_count': 'bigint',
        'landed_at': 'timestamptz',
    }) }}
),

ranked as (
    select
        *,
        count(*) over (
            partition by channel_id, report_family, report_date
        ) as reports_landed,
        row_number() over (
            partition by channel_id, report_family, report_date
            order by create_time desc, report_id desc
        ) as newest_first
    from source
),

final as (
    select
        channel_id::text as channel_id,
        report_family::text as report_family,
        report_date::date as metric_date,
        report_id::text as report_id,
        report_type_id::text as report_type_id,
        create_time::timestamptz as report_created_at,
        status::text as report_status,
        row_count::bigint as row_count,
        reports_landed::integer as reports_landed,
        landed_at::timestamptz as landed_at
    from ranked
    where newest_first = 1
)

select * from final
