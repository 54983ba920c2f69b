{% macro first_reloaded_date(loads, date_column, count_column, window_start) -%}
    {%- set reloaded -%}
        select min(coalesce(landed.load_date, built.load_date))
        from (
            select
                landed_loads.{{ date_column }} as load_date,
                landed_loads.dlt_load_id,
                landed_loads.{{ count_column }} as row_count
            from {{ loads }} as landed_loads
            where landed_loads.{{ date_column }} >= {{ window_start }}
        ) as landed
        full outer join (
            select
                built_rows.{{ date_column }} as load_date,
                built_rows.dlt_load_id,
                count(*) as row_count
            from {{ this }} as built_rows
            where built_rows.{{ date_column }} >= {{ window_start }}
            group by built_rows.{{ date_column }}, built_rows.dlt_load_id
        ) as built
            on
                landed.load_date = built.load_date
                and landed.dlt_load_id = built.dlt_load_id
        where landed.row_count is distinct from built.row_count
    {%- endset -%}
    {{ query_value(reloaded, 'date') }}
{%- endmacro %}
