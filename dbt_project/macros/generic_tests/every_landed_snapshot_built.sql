{% test every_landed_snapshot_built(
    model, landed, count_column=none, date_column='collection_date'
) %}
    {#-
        What the newest build had to take in: every load newer than the
        newest load among the rows the model held before that build (all
        loads after a full refresh). Each such load's rows of each day must
        be in the model with that load.
    -#}
    {%- set held_before -%}
        select coalesce(max(held.dlt_load_id), '')
        from {{ model }} as held
        where held.built_at < (select max(newest.built_at) from {{ model }} as newest)
    {%- endset -%}
    {%- set horizon = query_value(held_before, 'text') -%}
    with

    landed_loads as (
        select
            {{ date_column }} as landed_date,
            dlt_load_id,
            {{ 'sum(' ~ count_column ~ ')' if count_column else 'count(*)' }} as landed_rows
        from {{ landed }}
        where dlt_load_id > {{ horizon }}
        group by {{ date_column }}, dlt_load_id
    ),

    built_loads as (
        select
            {{ date_column }} as landed_date,
            dlt_load_id,
            count(*) as built_rows
        from {{ model }}
        where dlt_load_id > {{ horizon }}
        group by {{ date_column }}, dlt_load_id
    )

    select
        landed_loads.landed_date,
        landed_loads.dlt_load_id,
        landed_loads.landed_rows,
        coalesce(built_loads.built_rows, 0) as built_rows
    from landed_loads
    left join built_loads
        on
            landed_loads.landed_date = built_loads.landed_date
            and landed_loads.dlt_load_id = built_loads.dlt_load_id
    where landed_loads.landed_rows is distinct from built_loads.built_rows
{% endtest %}
