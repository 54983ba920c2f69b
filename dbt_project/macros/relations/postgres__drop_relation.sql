{% macro postgres__drop_relation(relation) -%}
    {%- set existing = relation_in_catalog(relation) -%}
    {%- if existing is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set readers = relation_readers(existing) -%}
    {%- if readers -%}
        {%- set retired = existing.identifier.replace('__dbt_backup', '')[:40] ~ '__dbt_retired_'
            ~ invocation_id.replace('-', '')[:8] -%}
        {{ log(
            'Keeping ' ~ existing ~ ' as ' ~ retired ~ ': still read by '
            ~ readers | map(attribute=0) | join(', ')
            ~ ' until their own builds replace them',
            info=true,
        ) }}
        {% call statement('retire_relation', auto_begin=False) -%}
            alter table {{ existing }} rename to {{ adapter.quote(retired) }}
        {%- endcall %}
    {%- else -%}
        {#- No cascade: anything else that still depends on it fails the drop, by name. -#}
        {% call statement('drop_relation', auto_begin=False) -%}
            drop {{ existing.type.replace('_', ' ') }} {{ existing }}
        {%- endcall %}
    {%- endif -%}
{%- endmacro %}
