{#
    Daily deltas from cumulative counters (see the docs block counter_deltas).

    `snapshots` is a relation or CTE with one row per entity and date: the
    key column(s), `date_column` and every counter. `counters` maps each
    counter column to the name of its delta. `starts_from_zero` is a boolean
    SQL expression over those columns (in scope as `linked.<column>`),
    evaluated only for a row without a previous snapshot, so it may look the
    entity up: few rows of a daily run reach it. `carried` columns pass
    through unchanged.
    The result adds `previous_<date_column>`, `days_since_previous`, the
    previous value of each counter, each delta, `is_restated` and
    `is_baseline` (a first snapshot that does not count from zero: its deltas
    are 0 by construction, not measured).

    A counter may be null: YouTube omits hidden likes, disabled comments and
    hidden subscriber counts, and an absent counter is unknown, not 0. Its
    delta is then null, and the next day it is known again is measured from
    its last known value within `max_gap_days` (`previous_<counter>`), so
    the deltas still telescope to the counter's change. A counter known for
    the first time with no known value before it is a baseline (delta 0), or
    counts from zero like a new entity.
#}
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

{#
    The value of a one-value query, run while the model compiles, as a SQL
    literal of `type` (null when the query returns null). Incremental models
    filter big tables on their windows: the planner sees a literal date and
    reads the date index for a few days of rows, where a subquery's unknown
    value would make it estimate a third of the table and scan all of it.
    Other commands (compile, docs: the tables may not exist yet) render the
    query as a subquery, which gives the same rows.
#}
{% macro query_value(sql, type) -%}
    {%- if execute and flags.WHICH in ['run', 'build'] -%}
        {%- set value = run_query(sql).columns[0].values()[0] -%}
        {{- 'null' if value is none else "'" ~ value ~ "'" }}::{{ type }}
    {%- else -%}
        ({{ sql }})::{{ type }}
    {%- endif -%}
{%- endmacro %}

{#
    The first date an incremental model recomputes: `lookback_days` before the
    newest date already built. Rows older than this are left as they are.
#}
{% macro incremental_window_start(date_column, relation=none) -%}
    {{ query_value(
        "select coalesce(max(" ~ date_column ~ "), '0001-01-01'::date) - "
        ~ var('lookback_days') ~ " from " ~ (relation or this),
        'date',
    ) }}
{%- endmacro %}

{#
    Incremental strategy `replace_window`: delete every target row from the
    first date of the new batch on, then insert the batch. The facts are
    recomputed as whole days, so replacing whole days is exact (a snapshot
    removed from raw disappears too), and the delete reads the target through
    its date index instead of matching keys against the whole history (the
    batch's first date is read first and inlined, as query_value does).
    The model names its date column in config `window_column`, and keys its
    unique index on (date, entity): a new day's rows then land at the right
    edge of the index, not at random pages of a history-sized one.
#}
{% macro get_incremental_replace_window_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set batch = arg_dict['temp_relation'] -%}
    {%- set window_column = config.require('window_column') -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set batch_start = query_value(
        'select min(' ~ window_column ~ ') from ' ~ batch, 'date'
    ) -%}
    delete from {{ target }}
    where {{ window_column }} >= {{ batch_start }};

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ batch }}
{%- endmacro %}

{# The same window for a timestamp watermark: `lookback_days` before the newest. #}
{% macro incremental_window_start_at(timestamp_column, relation=none) -%}
    {{ query_value(
        "select coalesce(max(" ~ timestamp_column ~ "), '-infinity'::timestamptz)"
        ~ " - interval '" ~ var('lookback_days') ~ " days' from " ~ (relation or this),
        'timestamptz',
    ) }}
{%- endmacro %}

{#
    Incremental strategy `accumulate`: add the batch's measures to the
    target's running totals, key by key. The model lists its summed columns in
    config `accumulate_columns`; every other non-key column takes the batch's
    value. Only for batches of rows that no later run can change (settled
    days): the batch runs in the model's transaction, so a failed run adds
    nothing and a rerun over the same rows is the model's job to exclude.
#}
{% macro get_incremental_accumulate_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set batch = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- set keys = [keys] if keys is string else keys -%}
    {%- set summed = config.require('accumulate_columns') -%}
    {%- set names = arg_dict['dest_columns'] | map(attribute='name') | list -%}
    {%- set columns = get_quoted_csv(names) -%}
    insert into {{ target }} as accumulated ({{ columns }})
    select {{ columns }} from {{ batch }}
    on conflict ({{ keys | join(', ') }}) do update set
    {%- for name in names if name not in keys %}
        {{ adapter.quote(name) }} =
        {%- if name in summed %}
            accumulated.{{ adapter.quote(name) }} + excluded.{{ adapter.quote(name) }}
        {%- else %} excluded.{{ adapter.quote(name) }}
        {%- endif %}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#
    The first day, from `window_start` on, where `staged` (the rows a model
    is built from) and `built` (what the model holds) differ: compared day by
    day on the row count and a sum of row hashes over `columns` (all of
    them, in table order, when none are named), so a daily run rewrites the
    new day and any day a late or re-collected row changed, not every day of
    its lookback window. Null when nothing changed. A row removed from a
    source changes its day's count too; only a day that lost every row is
    left in place (replace_window deletes from the batch's first day), which
    dlt's merge never does and a full refresh corrects.
#}
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

{#
    The first day, from `window_start` on, whose loads differ from those of
    the rows this model holds: `loads` counts the raw rows each dlt load
    landed per day (date_column, dlt_load_id, `count_column`), and each
    stored row keeps the dlt_load_id it was built from. A new day, a late or
    re-collected snapshot (dlt's merge gives the row a new load) and a
    removed one all change a day's counts; a load that commits while dbt
    runs is simply found by the next run. Read while the model compiles and
    inlined, as query_value does; null when no day changed.
#}
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

{#
    The `built_at` stamp of a row a model writes: the start of its run's
    transaction, which first_rebuilt_date compares across parent and child.
#}
{% macro built_at() -%}
    now()
{%- endmacro %}

{#
    The first day, from `window_start` on, that one of `parents` rewrote
    since this model last wrote a row. Each of them stamps the rows it writes
    with `built_at`, the start of its run's transaction, and dbt builds a
    parent before its children: a parent row stamped after this model's
    newest stamp (the watermark) was written since. A daily run so finds the
    days to rewrite from its parents' date and stamp columns alone, where
    first_changed_date fingerprints the join of their rows. `parents` is a
    list of (relation, date column) pairs. Both values are read while the
    model compiles and inlined, as query_value does; null when no parent
    wrote anything since.
#}
{% macro first_rebuilt_date(parents, window_start) -%}
    {%- set watermark = query_value(
        "select coalesce(max(built_at), '-infinity')::text from " ~ this
        ~ " where " ~ config.require('window_column') ~ " >= " ~ window_start,
        'timestamptz',
    ) -%}
    {%- set rebuilt -%}
        select min(day) from (
        {%- for relation, date_column in parents %}
            select min({{ date_column }}) as day
            from {{ relation }}
            where {{ date_column }} >= {{ window_start }} and built_at > {{ watermark }}
            {%- if not loop.last %}
            union all
            {%- endif %}
        {%- endfor %}
        ) as rebuilt
    {%- endset -%}
    {{ query_value(rebuilt, 'date') }}
{%- endmacro %}

{#
    The rows an incremental differencing model rewrites from `changed_from`
    on, preceded by the rows this model already holds of each of their
    entities from the `max_gap_days` before it: the previous snapshots its
    first rewritten rows are differenced against (counter_deltas looks back
    that far, to the newest snapshot and to the newest known value of each
    counter, which a hidden counter may leave a few days back; the model
    keeps only rows from `changed_from` on). The stored rows carry the
    counters they were built from, so the sources are read only from the
    lookback window on. `changed` is the relation of new input rows with
    `columns`; `key_columns` are counter_deltas' keys, the first of them the
    entity's id (never null).
#}
{% macro with_stored_previous(changed, key_columns, date_column, columns, changed_from) -%}
    {%- set entity = key_columns[0] -%}
    {%- set gap_start = changed_from ~ ' - ' ~ var('max_gap_days') -%}
    select
        {%- for column in columns %}
        stored.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ this }} as stored
    where
        stored.{{ date_column }} >= {{ gap_start }}
        and stored.{{ date_column }} < {{ changed_from }}
        and stored.{{ entity }} in (
            select {{ entity }} from {{ changed }}
            where {{ date_column }} >= {{ changed_from }}
        )
    union all
    select
        {%- for column in columns %}
        changed.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ changed }} as changed
    where changed.{{ date_column }} >= {{ changed_from }}
{%- endmacro %}

{#
    `starts_from_zero` of a video-grain counter_deltas: true when the video
    was published within `new_entity_days` of the row's date, looked up in the
    `videos` CTE (video_id, published_date); `when_unknown` for a video it
    does not hold.
#}
{% macro video_starts_from_zero(when_unknown) -%}
    coalesce(
        (
            select videos.published_date
            from videos
            where videos.video_id = linked.video_id
        ) >= linked.collection_date - {{ var('new_entity_days') }},
        {{ when_unknown }}
    )
{%- endmacro %}
