{% macro first_reloaded_date(loads, date_column, count_column, window_start) -%}
    {%- set reloaded -%}
        select min(coalesce(landed.day, built.day))
        from (
            select {{ date_column }} as day, dlt_load_id, {{ count_column }} as row_count
            from {{ loads }}
            where {{ date_column }} >= {{ window_start }}
        ) as landed
        full outer join (
            select {{ date_column }} as day, dlt_load_id, count(*) as row_count
            from {{ this }}
            where {{ date_column }} >= {{ window_start }}
            group by {{ date_column }}, dlt_load_id
        ) as built
            on landed.day = built.day and landed.dlt_load_id = built.dlt_load_id
        where landed.row_count is distinct from built.row_count
    {%- endset -%}
    {{ query_value(reloaded, 'date') }}
{%- endmacro %}
