{% macro comment_relation() -%}
    {%- set kind = {
        'view': 'view',
        'materialized_view': 'materialized view',
    }.get(config.get('materialized'), 'table') -%}
    {%- set for_analysts = config.get('access') == 'public' -%}
    {%- if model.description %}
        comment on {{ kind }} {{ this }}
        is {{ postgres_escape_comment(plain_description(model.description, for_analysts)) }};
    {%- endif %}
    {%- for column in model.columns.values() if column.description %}
        comment on column {{ this }}.{{ adapter.quote(column.name) }}
        is {{ postgres_escape_comment(plain_description(column.description, for_analysts)) }};
    {%- endfor %}
{%- endmacro %}
