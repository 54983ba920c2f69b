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
