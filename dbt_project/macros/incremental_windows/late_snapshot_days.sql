{% macro late_snapshot_days(snapshots, loads, key_column, counters, window_start) -%}
    {%- set date_column = config.require('window_column') -%}
    {%- set span = var('max_gap_days') -%}
    {#- The newest dlt load this model holds a row of: any later load is new to it. -#}
    {%- set newest_load -%}
        select coalesce(max(built.dlt_load_id), '')
        from {{ this }} as built
    {%- endset -%}
    {%- set watermark = query_value(newest_load, 'text') -%}
    {%- set landed_late -%}
        select coalesce(array_agg(distinct landed.{{ date_column }}), '{}')
        from {{ loads }} as landed
        where
            landed.dlt_load_id > {{ watermark }}
            and landed.{{ date_column }} < {{ window_start }}
    {%- endset -%}
    {%- set late_dates = query_value(landed_late, 'date[]') -%}
    {#- Literal bounds, so the reads below reach the date index (or none at all). -#}
    {%- set first_late = query_value(
        'select min(late_day) from unnest(' ~ late_dates ~ ') as late_day', 'date'
    ) -%}
    {%- set last_late = query_value(
        'select max(late_day) from unnest(' ~ late_dates ~ ') as late_day', 'date'
    ) -%}
    {#-
        Each late snapshot's own day, and the days of the same entity's next
        snapshots within max_gap_days that are differenced against it: up to
        the first one with every counter known (a hidden counter takes the
        late value as its last known one).
    -#}
    {%- set touched -%}
        with late_rows as (
            select
                late_snapshot.{{ key_column }} as entity_id,
                late_snapshot.{{ date_column }} as late_date
            from {{ snapshots }} as late_snapshot
            where
                late_snapshot.{{ date_column }} = any({{ late_dates }})
                and late_snapshot.dlt_load_id > {{ watermark }}
        ),

        later_rows as (
            select
                later.{{ key_column }} as entity_id,
                later.{{ date_column }} as later_date,
                (
                    {%- for counter in counters %}
                    later.{{ counter }} is not null{{ ' and' if not loop.last }}
                    {%- endfor %}
                ) as is_known
            from {{ snapshots }} as later
            where
                later.{{ date_column }} > {{ first_late }}
                and later.{{ date_column }} <= {{ last_late }} + {{ span }}
        ),

        differenced_against as (
            select
                late_rows.late_date,
                later_rows.later_date,
                later_rows.is_known,
                min(later_rows.later_date) filter (where later_rows.is_known) over (
                    partition by late_rows.entity_id, late_rows.late_date
                ) as first_known_date
            from late_rows
            inner join later_rows
                on
                    late_rows.entity_id = later_rows.entity_id
                    and later_rows.later_date > late_rows.late_date
                    and later_rows.later_date <= late_rows.late_date + {{ span }}
        ),

        touched_days as (
            select late_date as touched_date from late_rows
            union
            select later_date from differenced_against
            where later_date <= coalesce(first_known_date, later_date)
        )

        select coalesce(array_agg(touched_date order by touched_date), '{}')
        from touched_days
    {%- endset -%}
    {{ query_value(touched, 'date[]') }}
{%- endmacro %}
