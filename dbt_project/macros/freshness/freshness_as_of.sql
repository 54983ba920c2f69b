{% macro freshness_as_of() -%}
    {%- set as_of = var('freshness_as_of', none) -%}
    {%- if as_of is none -%}
        {{ current_timestamp() }}
    {%- else -%}
        {#- fromisoformat raises on anything but an ISO 8601 instant: no SQL gets through -#}
        {%- set instant = modules.datetime.datetime.fromisoformat(as_of | string) -%}
        {%- if instant.tzinfo is none -%}
            {{ exceptions.raise_compiler_error(
                "var freshness_as_of must carry its UTC offset (e.g. "
                ~ "2025-01-03T08:00:00+00:00), not " ~ as_of
            ) }}
        {%- endif -%}
        cast('{{ instant.isoformat() }}' as timestamp with time zone)
    {%- endif -%}
{%- endmacro %}
