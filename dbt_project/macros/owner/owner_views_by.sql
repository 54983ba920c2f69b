{#-
    A channel-day mart of one Reporting API breakdown report: the report's
    rows (by video, live_or_on_demand, subscribed status and country) summed
    per channel, day and the report's coded dimensions, each code beside its
    name, the share of the day's views, and the day's views methodology.

    report_model: the staging model of the report family.
    codes: its coded dimensions, each named in
    stg_youtube_reporting__dimension_values; a code without a name reads
    'unknown (<code>)', so a code YouTube adds later keeps its views.
    Rows of deleted videos (no video id) count: the channel's totals are
    every video's.
-#}
{% macro owner_views_by(report_model, codes) -%}
with

report_rows as (
    select * from {{ ref(report_model) }}
),

dimension_values as (
    select * from {{ ref('stg_youtube_reporting__dimension_values') }}
),

methodologies as (
    select * from {{ ref('stg_youtube_reporting__views_methodologies') }}
),

breakdown as (
    select
        channel_id,
        metric_date,
        {%- for code in codes %}
        {{ code }},
        {%- endfor %}
        sum(views) as views,
        sum(engaged_views) as engaged_views,
        sum(watch_time_minutes) as watch_time_minutes,
        sum(views) filter (where video_id is null) as deleted_video_views
    from report_rows
    group by
        channel_id,
        metric_date,
        {{ codes | join(', ') }}
),

final as (
    select
        b.channel_id::text as channel_id,
        b.metric_date::date as metric_date,
        {%- for code in codes %}
        b.{{ code }}::integer as {{ code }},
        coalesce(
            {{ code }}_values.value_name,
            'unknown (' || b.{{ code }} || ')'
        )::text as {{ code }}_name,
        {%- endfor %}
        b.views::bigint as views,
        b.engaged_views::bigint as engaged_views,
        round(b.watch_time_minutes::numeric, 2)::numeric(18, 2) as watch_time_minutes,
        round(
            (b.watch_time_minutes * 60 / nullif(b.views, 0))::numeric, 1
        )::numeric(12, 1) as average_view_duration_seconds,
        round(
            100.0 * b.views / nullif(
                sum(b.views) over (partition by b.channel_id, b.metric_date), 0
            ),
            2
        )::numeric(6, 2) as views_share_pct,
        coalesce(b.deleted_video_views, 0)::bigint as deleted_video_views,
        m.views_methodology::text as views_methodology
    from breakdown as b
    {%- for code in codes %}
    left join dimension_values as {{ code }}_values
        on
            {{ code }}_values.dimension = '{{ code }}'
            and b.{{ code }} = {{ code }}_values.code
    {%- endfor %}
    inner join methodologies as m
        on b.metric_date >= m.valid_from_date and b.metric_date < m.valid_to_date
)

select * from final
{%- endmacro %}
