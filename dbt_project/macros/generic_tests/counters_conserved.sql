{% test counters_conserved(model, entity_column, date_column, counters) %}
    {%- set span = var('max_gap_days') -%}
    {#-
        The days the newest build wrote (all of them after a full refresh),
        checked with the max_gap_days after each: a later row may be
        differenced against a written one.
    -#}
    {%- set written_days -%}
        select coalesce(array_agg(distinct written.{{ date_column }}), '{}')
        from {{ model }} as written
        where written.built_at = (select max(newest.built_at) from {{ model }} as newest)
    {%- endset -%}
    {%- set written = query_value(written_days, 'date[]') -%}
    {%- set first_read -%}
        select min(written_day) - {{ span }} from unnest({{ written }}) as written_day
    {%- endset -%}
    with

    sequenced as (
        select
            {{ entity_column }} as entity_id,
            {{ date_column }} as checked_date,
            days_since_previous,
            lag({{ date_column }}) over by_entity as previous_date,
            {%- for total, delta in counters.items() %}
            {{ total }} as total_{{ loop.index }},
            {{ delta }} as delta_{{ loop.index }},
            -- the newest known value of the max_gap_days before (counter_deltas)
            (max(array[
                ({{ date_column }} - '0001-01-01'::date)::bigint, {{ total }}::bigint
            ]) filter (where {{ total }} is not null) over known_before)[2]
                as previous_known_{{ loop.index }},
            {%- endfor %}
            true as is_sequenced
        from {{ model }}
        where {{ date_column }} >= {{ query_value(first_read, 'date') }}
        window
            by_entity as (partition by {{ entity_column }} order by {{ date_column }}),
            known_before as (
                by_entity range between
                interval '{{ span }} days' preceding
                and interval '1 day' preceding
            )
    ),

    checked as (
        select
            *,
            case
                when previous_date >= checked_date - {{ span }}
                    then checked_date - previous_date
            end as expected_days_since_previous
        from sequenced
        where exists (
            select
            from unnest({{ written }}) as written (written_day)
            where
                sequenced.checked_date >= written.written_day
                and sequenced.checked_date <= written.written_day + {{ span }}
        )
    )

    select *
    from checked
    where
        -- each row follows the previous row of its entity in the fact
        days_since_previous is distinct from expected_days_since_previous
        {%- for total in counters %}
        -- a known counter's delta is its change since its last known value
        or (
            total_{{ loop.index }} is not null
            and previous_known_{{ loop.index }} is not null
            and delta_{{ loop.index }} is distinct from
            total_{{ loop.index }} - previous_known_{{ loop.index }}
        )
        -- an unknown counter has no delta; a first known value counts from
        -- 0 (a baseline) or from zero (a new entity)
        or (total_{{ loop.index }} is null and delta_{{ loop.index }} is not null)
        or (total_{{ loop.index }} is not null and delta_{{ loop.index }} is null)
        or (
            total_{{ loop.index }} is not null
            and previous_known_{{ loop.index }} is null
            and delta_{{ loop.index }} not in (0, total_{{ loop.index }})
        )
        {%- endfor %}
{% endtest %}
