{#
    The warehouse's shared formulas. Both grains (channel-day and video-day)
    call these, so a definition changes in one place. Parameters come from the
    vars in dbt_project.yml, never from literals in models.
#}

{% macro engagement_rate(likes, comments, shares, views) -%}
    case
        when {{ views }} > 0
            then round(
                ({{ likes }} + {{ comments }} + {{ shares }})::numeric
                / {{ views }} * 100,
                2
            )
        else 0
    end
{%- endmacro %}

{% macro growth_rate(current_value, previous_value) -%}
    case
        when {{ current_value }} is null then null
        when {{ previous_value }} is null then 0
        when {{ previous_value }} = 0
            then case when {{ current_value }} > 0 then 100 else 0 end
        else round(
            ({{ current_value }} - {{ previous_value }})::numeric
            / {{ previous_value }} * 100,
            2
        )
    end
{%- endmacro %}

{% macro cpm_multiplier(engagement_rate) -%}
    case
        when {{ engagement_rate }} > {{ var('cpm_high_engagement_rate') }}
            then {{ var('cpm_high_engagement_multiplier') }}
        when {{ engagement_rate }} > {{ var('cpm_mid_engagement_rate') }}
            then {{ var('cpm_mid_engagement_multiplier') }}
        else 1.0
    end::numeric
{%- endmacro %}

{#- Restated (negative) days earn nothing rather than negative revenue. -#}
{% macro billable_views(views_daily) -%}
    greatest({{ views_daily }}, 0)
{%- endmacro %}

{% macro ad_revenue_usd(views_daily, cpm_usd) -%}
    ({{ billable_views(views_daily) }}::numeric / 1000 * {{ cpm_usd }})
{%- endmacro %}

{% macro affiliate_revenue_usd(ad_revenue) -%}
    ({{ ad_revenue }} * {{ var('affiliate_share_of_ad_revenue') }})
{%- endmacro %}

{% macro sponsorship_revenue_usd(views_daily) -%}
    (case
        when {{ views_daily }} > {{ var('sponsorship_min_daily_views') }}
            then {{ views_daily }}::numeric * {{ var('sponsorship_usd_per_view') }}
        else 0
    end)
{%- endmacro %}

{#
    Columns of the revenue estimate for a row with `views_daily`,
    `engagement_rate` and `base_cpm_usd`, ending with a trailing comma.
#}
{% macro revenue_columns(views_daily, engagement_rate, base_cpm_usd) -%}
    {%- set cpm = base_cpm_usd ~ ' * ' ~ cpm_multiplier(engagement_rate) -%}
    {%- set ad = ad_revenue_usd(views_daily, cpm) -%}
    {{ cpm_multiplier(engagement_rate) }} as cpm_multiplier,
    ({{ cpm }})::numeric(10, 4) as cpm_usd,
    round({{ ad }}, 4)::numeric(18, 4) as ad_revenue_usd,
    round({{ affiliate_revenue_usd(ad) }}, 4)::numeric(18, 4) as affiliate_revenue_usd,
    round({{ sponsorship_revenue_usd(views_daily) }}, 4)::numeric(18, 4)
        as sponsorship_revenue_usd,
    round(
        {{ ad }} + {{ affiliate_revenue_usd(ad) }}
        + {{ sponsorship_revenue_usd(views_daily) }},
        2
    )::numeric(18, 2) as revenue_estimate_usd,
{%- endmacro %}

{% macro to_reporting_date(timestamp_column) -%}
    ({{ timestamp_column }} at time zone '{{ var("reporting_timezone") }}')::date
{%- endmacro %}

{#- The instant a reporting day (a date expression) starts, as timestamptz. -#}
{% macro reporting_day_start(date_expression) -%}
    (({{ date_expression }})::timestamp at time zone '{{ var("reporting_timezone") }}')
{%- endmacro %}

{#
    How a YouTube video's duration compares with the range the platform
    generates (vars `video_duration_min_seconds`, `video_duration_max_seconds`):
    `in_range`, `short` (a Short or clip), `long` (a long upload or a live
    replay), `live` or `upcoming` (a broadcast, no duration yet), `unknown`.
    Real videos outside the range are flagged here, never rejected.
#}
{% macro duration_status(duration_seconds, live_broadcast_content) -%}
    case
        when {{ live_broadcast_content }} in ('live', 'upcoming')
            then {{ live_broadcast_content }}
        when {{ duration_seconds }} is null then 'unknown'
        when {{ duration_seconds }} < {{ var('video_duration_min_seconds') }}
            then 'short'
        when {{ duration_seconds }} > {{ var('video_duration_max_seconds') }}
            then 'long'
        else 'in_range'
    end
{%- endmacro %}

{#
    The inputs of a rate or estimate that were unknown on the day (a counter
    YouTube hid): `conditions` maps each input's name to a boolean SQL
    expression that is true when it was unknown. A text[] of the names, in
    the order given; empty when every input was known.
#}
{% macro unknown_inputs(conditions) -%}
    array_remove(array[
        {%- for name, unknown in conditions.items() %}
        case when {{ unknown }} then '{{ name }}' end{{ ',' if not loop.last }}
        {%- endfor %}
    ]::text[], null)
{%- endmacro %}

{#-
    True when a metric day is final: older than the incremental window
    (`lookback_days` before the newest metric day `newest_date`), so no daily
    run rewrites it; later days can still change when a late snapshot lands.
-#}
{% macro is_final(date_expression, newest_date) -%}
    ({{ date_expression }} < {{ newest_date }} - {{ var('lookback_days') }})
{%- endmacro %}
