{#- The staging select of one Reporting API report family; docs in _owner__macros.yml. -#}
{% macro reporting_report_rows(family, columns) -%}
{%- set declared = {} -%}
{%- for column in columns -%}
    {%- do declared.update({column.name: column.raw}) -%}
{%- endfor -%}
with

source as (
    {{ landed_rows(source('youtube_reporting', family), declared) }}
),

final as (
    select
        {%- for column in columns %}
        {{ column.typed }} as {{ column.alias or column.name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from source
)

select * from final
{%- endmacro %}


{#- The key columns every channel report starts with. -#}
{% macro reporting_key_columns(audience=true) -%}
    {%- set columns = [
        {'name': 'report_id', 'raw': 'text', 'typed': 'report_id::text'},
        {'name': 'report_row', 'raw': 'bigint', 'typed': 'report_row::integer'},
        {'name': 'report_type_id', 'raw': 'text', 'typed': 'report_type_id::text'},
        {'name': 'create_time', 'raw': 'timestamptz', 'typed': 'create_time::timestamptz',
         'alias': 'report_created_at'},
        {'name': 'date', 'raw': 'date', 'typed': 'date::date', 'alias': 'metric_date'},
        {'name': 'channel_id', 'raw': 'text', 'typed': 'channel_id::text'},
        {'name': 'video_id', 'raw': 'text', 'typed': "nullif(video_id, '')::text"},
    ] -%}
    {%- if audience -%}
        {%- do columns.extend([
            {'name': 'live_or_on_demand', 'raw': 'text', 'typed': 'live_or_on_demand::text'},
            {'name': 'subscribed_status', 'raw': 'text', 'typed': 'subscribed_status::text'},
            {'name': 'country_code', 'raw': 'text', 'typed': "nullif(country_code, '')::text"},
        ]) -%}
    {%- endif -%}
    {{ return(columns) }}
{%- endmacro %}


{#- The watch-time metrics of channel_basic and the breakdown families. -#}
{% macro reporting_watch_columns() -%}
    {{ return([
        reporting_count_column('views'),
        {'name': 'engaged_views', 'raw': 'bigint', 'typed': 'engaged_views::bigint'},
        reporting_minutes_column('watch_time_minutes'),
        {'name': 'average_view_duration_seconds', 'raw': 'bigint',
         'typed': 'average_view_duration_seconds::bigint'},
        {'name': 'average_view_duration_percentage', 'raw': 'double precision',
         'typed': 'average_view_duration_percentage::double precision',
         'alias': 'average_view_duration_pct'},
        reporting_count_column('red_views'),
        reporting_minutes_column('red_watch_time_minutes'),
    ]) }}
{%- endmacro %}


{#- A count YouTube leaves empty when it is zero. -#}
{% macro reporting_count_column(name) -%}
    {{ return({'name': name, 'raw': 'bigint', 'typed': 'coalesce(' ~ name ~ ', 0)::bigint'}) }}
{%- endmacro %}


{#- Minutes YouTube leaves empty when they are zero. -#}
{% macro reporting_minutes_column(name) -%}
    {{ return({'name': name, 'raw': 'double precision',
               'typed': 'coalesce(' ~ name ~ ', 0)::double precision'}) }}
{%- endmacro %}
