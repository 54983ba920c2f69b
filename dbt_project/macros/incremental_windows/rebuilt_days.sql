{% macro rebuilt_days(parents, before=none, span=0) -%}
    {%- set newest_stamp -%}
        select coalesce(max(stamped.built_at), '-infinity')
        from {{ this }} as stamped
    {%- endset -%}
    {%- set watermark = query_value(newest_stamp, 'timestamptz') -%}
    {%- set rebuilt -%}
        with rebuilt as (
        {%- for relation, date_column in parents %}
            select distinct parent_{{ loop.index }}.{{ date_column }} as rebuilt_date
            from {{ relation }} as parent_{{ loop.index }}
            where parent_{{ loop.index }}.built_at > {{ watermark }}
            {%- if not loop.last %}
            union
            {%- endif %}
        {%- endfor %}
        ),

        touched as (
            select distinct rebuilt.rebuilt_date + later.days as touched_date
            from rebuilt
            cross join generate_series(0, {{ span }}) as later (days)
        )

        select coalesce(array_agg(touched_date order by touched_date), '{}')
        from touched
        {%- if before is not none %}
            where touched_date < {{ before }}
        {%- endif %}
    {%- endset -%}
    {{ query_value(rebuilt, 'date[]') }}
{%- endmacro %}
