-- YouTube changed what a view is twice: Shorts' views count every play from
-- 2025-06-30, every format's from 2026-08-27 (engaged_views keeps the old
-- meaning throughout). One row per period, so a mart marks each day with the
-- methodology its views were counted by and a trend across a break is flagged.
with

periods (views_methodology, valid_from_date, valid_to_date, description) as (
    values
    (
        'threshold',
        date '2005-04-23',
        date '2025-06-30',
        'Every format''s views count a play once it passes a short watch'
        || ' threshold.'
    ),
    (
        'shorts_count_plays',
        date '2025-06-30',
        date '2026-08-27',
        'Shorts'' views count every play and replay from its start; other'
        || ' formats'' views still pass the watch threshold.'
    ),
    (
        'all_count_plays',
        date '2026-08-27',
        date '9999-12-31',
        'Every format''s views count every play from its start; engaged views'
        || ' keep the threshold.'
    )
),

final as (
    select
        views_methodology::text as views_methodology,
        valid_from_date::date as valid_from_date,
        valid_to_date::date as valid_to_date,
        description::text as description
    from periods
)

select * from final
