{% macro first_changed_date(staged, built, date_column, columns, window_start) -%}
    {%- set hashed = [] -%}
    {%- for column in columns or ['*'] -%}
        {%- do hashed.append('fingerprinted.' ~ column) -%}
    {%- endfor -%}
    {%- set day_fingerprints -%}
            select
                fingerprinted.{{ date_column }} as fingerprinted_date,
                count(*) as row_count,
                sum(hash_record_extended(row({{ hashed | join(', ') }}), 0)) as row_hash
    {%- endset -%}
    (
        select min(coalesce(staged_days.fingerprinted_date, built_days.fingerprinted_date))
        from (
            {{ day_fingerprints }}
            from {{ staged }} as fingerprinted
            where fingerprinted.{{ date_column }} >= {{ window_start }}
            group by fingerprinted.{{ date_column }}
        ) as staged_days
        full outer join (
            {{ day_fingerprints }}
            from {{ built }} as fingerprinted
            where fingerprinted.{{ date_column }} >= {{ window_start }}
            group by fingerprinted.{{ date_column }}
        ) as built_days
            on staged_days.fingerprinted_date = built_days.fingerprinted_date
        where
            (staged_days.row_count, staged_days.row_hash)
            is distinct from (built_days.row_count, built_days.row_hash)
    )
{%- endmacro %}
