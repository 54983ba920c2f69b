{% macro counter_deltas(
    snapshots, key_columns, date_column, counters, starts_from_zero='starts_from_zero',
    carried=[]
) -%}
    {%- set keys = key_columns | join(', ') -%}
    with sequenced as (
        select
            *,
            lag({{ date_column }}) over by_entity as lag_date,
            {%- for counter in counters %}
            -- The newest known value of the max_gap_days before: the max of
            -- (days, value) pairs is the value of the newest day that has one.
            (max(array[
                ({{ date_column }} - '0001-01-01'::date)::bigint, {{ counter }}::bigint
            ]) filter (where {{ counter }} is not null) over known_before)[2]
                as known_{{ counter }},
            {%- endfor %}
            true as is_sequenced
        from {{ snapshots }}
        window
            by_entity as (partition by {{ keys }} order by {{ date_column }}),
            known_before as (
                by_entity range between
                interval '{{ var("max_gap_days") }} days' preceding
                and interval '1 day' preceding
            )
    ),

    linked as (
        select
            *,
            coalesce(
                lag_date >= {{ date_column }} - {{ var('max_gap_days') }},
                false
            ) as has_previous
        from sequenced
    ),

    based as (
        select
            *,
            -- case, not and: the expression runs only for rows with a known
            -- counter and no known value before it (first snapshots, mostly)
            case
                when
                    {%- for counter in counters %}
                    ({{ counter }} is null or known_{{ counter }} is not null)
                    {%- if not loop.last %} and{% endif %}
                    {%- endfor %}
                    then false
                else {{ starts_from_zero }}
            end as counts_from_zero
        from linked
    )

    select
        {%- for key in key_columns %}
        {{ key }},
        {%- endfor %}
        {{ date_column }},
        case when has_previous then lag_date end as previous_{{ date_column }},
        case
            when has_previous then {{ date_column }} - lag_date
        end as days_since_previous,
        {%- for counter, delta in counters.items() %}
        {{ counter }},
        known_{{ counter }} as previous_{{ counter }},
        case
            when {{ counter }} is null then null
            when known_{{ counter }} is not null
                then {{ counter }} - known_{{ counter }}
            when counts_from_zero then {{ counter }}
            else 0
        end as {{ delta }},
        {%- endfor %}
        (
            {%- for counter in counters %}
            coalesce({{ counter }} < known_{{ counter }}, false)
            {%- if not loop.last %} or {% endif -%}
            {% endfor %}
        ) as is_restated,
        (not has_previous and not counts_from_zero) as is_baseline
        {%- for column in carried %},
        {{ column }}
        {%- endfor %}
    from based
{%- endmacro %}
