{% macro first_changed_date(staged, built, date_column, columns, window_start) -%}
    {%- set hashed = columns | join(', ') if columns else 'fingerprinted.*' -%}
    {%- set fingerprint -%}
        count(*) as row_count,
        sum(hash_record_extended(row({{ hashed }}), 0)) as row_hash
    {%- endset -%}
    (
        select min(coalesce(staged_days.day, built_days.day))
        from (
            select {{ date_column }} as day, {{ fingerprint }}
            from {{ staged }} as fingerprinted
            where {{ date_column }} >= {{ window_start }}
            group by {{ date_column }}
        ) as staged_days
        full outer join (
            select {{ date_column }} as day, {{ fingerprint }}
            from {{ built }} as fingerprinted
            where {{ date_column }} >= {{ window_start }}
            group by {{ date_column }}
        ) as built_days
            on staged_days.day = built_days.day
        where
            (staged_days.row_count, staged_days.row_hash)
            is distinct from (built_days.row_count, built_days.row_hash)
    )
{%- endmacro %}
