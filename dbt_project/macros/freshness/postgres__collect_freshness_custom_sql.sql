{% macro postgres__collect_freshness_custom_sql(source, loaded_at_query) -%}
    {% call statement(
        'collect_freshness_custom_sql', fetch_result=True, auto_begin=False
    ) -%}
        with source_query as (
            {{ loaded_at_query }}
        )

        select
            (select * from source_query) as max_loaded_at,
            {{ freshness_as_of() }} as snapshotted_at
    {%- endcall %}
    {{ return(load_result('collect_freshness_custom_sql')) }}
{%- endmacro %}
