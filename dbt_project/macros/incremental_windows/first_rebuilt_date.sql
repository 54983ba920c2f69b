{% macro first_rebuilt_date(parents, window_start) -%}
    {%- set window_column = config.require('window_column') -%}
    {%- set newest_stamp -%}
        select coalesce(max(stamped.built_at), '-infinity')::text
        from {{ this }} as stamped
        where stamped.{{ window_column }} >= {{ window_start }}
    {%- endset -%}
    {%- set watermark = query_value(newest_stamp, 'timestamptz') -%}
    {%- set rebuilt -%}
        select min(rebuilt.rebuilt_date)
        from (
        {%- for relation, date_column in parents %}
            select min(parent_{{ loop.index }}.{{ date_column }}) as rebuilt_date
            from {{ relation }} as parent_{{ loop.index }}
            where
                parent_{{ loop.index }}.{{ date_column }} >= {{ window_start }}
                and parent_{{ loop.index }}.built_at > {{ watermark }}
            {%- if not loop.last %}
            union all
            {%- endif %}
        {%- endfor %}
        ) as rebuilt
    {%- endset -%}
    {{ query_value(rebuilt, 'date') }}
{%- endmacro %}
