{#
    Daily deltas from cumulative counters (see the docs block counter_deltas).

    `snapshots` is a relation or CTE with one row per entity and date: the
    key column(s), `date_column`, every counter, and a boolean
    `starts_from_zero`. `counters` maps each counter column to the name of
    its delta. The result adds `previous_<date_column>`, `days_since_previous`,
    the previous value of each counter, each delta, and `is_restated`.
#}
{% macro counter_deltas(snapshots, key_columns, date_column, counters) -%}
    {%- set keys = key_columns | join(', ') -%}
    with sequenced as (
        select
            *,
            lag({{ date_column }}) over by_entity as lag_date,
            {%- for counter in counters %}
            lag({{ counter }}) over by_entity as lag_{{ counter }},
            {%- endfor %}
            true as is_sequenced
        from {{ snapshots }}
        window by_entity as (partition by {{ keys }} order by {{ date_column }})
    ),

    linked as (
        select
            *,
            coalesce(
                lag_date >= {{ date_column }} - {{ var('max_gap_days') }},
                false
            ) as has_previous
        from sequenced
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
        case when has_previous then lag_{{ counter }} end as previous_{{ counter }},
        {{ counter }} - case
            when has_previous then lag_{{ counter }}
            when starts_from_zero then 0
            else {{ counter }}
        end as {{ delta }},
        {%- endfor %}
        (
            {%- for counter in counters %}
            (has_previous and {{ counter }} < lag_{{ counter }})
            {%- if not loop.last %} or {% endif -%}
            {% endfor %}
        ) as is_restated
    from linked
{%- endmacro %}

{#
    The first date an incremental model recomputes: `lookback_days` before the
    newest date already built. Rows older than this are left as they are.
#}
{% macro incremental_window_start(date_column, relation=none) -%}
    (
        select coalesce(max({{ date_column }}), '0001-01-01'::date)
            - {{ var('lookback_days') }}
        from {{ relation or this }}
    )
{%- endmacro %}

{#
    Incremental strategy `replace_window`: delete every target row from the
    first date of the new batch on, then insert the batch. The facts are
    recomputed as whole days, so replacing whole days is exact (a snapshot
    removed from raw disappears too), and the delete reads the target through
    its date index instead of matching keys against the whole history.
    The model names its date column in config `window_column`.
#}
{% macro get_incremental_replace_window_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set batch = arg_dict['temp_relation'] -%}
    {%- set window_column = config.require('window_column') -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ window_column }} >= (select min({{ window_column }}) from {{ batch }});

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ batch }}
{%- endmacro %}

{# The same window for a timestamp watermark: `lookback_days` before the newest. #}
{% macro incremental_window_start_at(timestamp_column, relation=none) -%}
    (
        select
            coalesce(max({{ timestamp_column }}), '-infinity'::timestamptz)
            - interval '{{ var("lookback_days") }} days'
        from {{ relation or this }}
    )
{%- endmacro %}
