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
            {#- As sum() does: a null on either side is left out, not propagated. #}
            case
                when accumulated.{{ adapter.quote(name) }} is null
                    then excluded.{{ adapter.quote(name) }}
                when excluded.{{ adapter.quote(name) }} is null
                    then accumulated.{{ adapter.quote(name) }}
                else accumulated.{{ adapter.quote(name) }} + excluded.{{ adapter.quote(name) }}
            end
        {%- else %} excluded.{{ adapter.quote(name) }}
        {%- endif %}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
