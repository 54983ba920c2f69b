{% macro postgres__drop_relation(relation) -%}
    {%- set readers = relation_readers(relation) -%}
    {%- if readers | selectattr(1, 'equalto', 'm') | list -%}
        {%- set retired = relation.identifier.replace('__dbt_backup', '')[:40] ~ '__dbt_retired_'
            ~ invocation_id.replace('-', '')[:8] -%}
        {{ log(
            'Keeping ' ~ relation ~ ' as ' ~ retired ~ ': still read by '
            ~ readers | map(attribute=0) | join(', ')
            ~ ' until their own builds replace them',
            info=true,
        ) }}
        {% call statement('retire_relation', auto_begin=False) -%}
            alter table {{ relation }} rename to {{ adapter.quote(retired) }}
        {%- endcall %}
    {%- else -%}
        {% call statement('drop_relation', auto_begin=False) -%}
            {{ get_drop_sql(relation) }}
        {%- endcall %}
    {%- endif -%}
{%- endmacro %}
