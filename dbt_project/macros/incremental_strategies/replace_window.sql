{% macro get_incremental_replace_window_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set batch = arg_dict['temp_relation'] -%}
    {%- set window_column = config.require('window_column') -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set batch_days = query_value(
        "select coalesce(array_agg(distinct " ~ window_column ~ "), '{}') from " ~ batch,
        'date[]',
    ) -%}
    delete from {{ target }}
    where {{ window_column }} = any({{ batch_days }});

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ batch }}
{%- endmacro %}
