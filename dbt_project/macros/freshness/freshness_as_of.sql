{% macro freshness_as_of() -%}
    {#- an environment variable, not a var: a changed var makes dbt parse the project anew -#}
    {%- set as_of = env_var('YTEMPIRE_FRESHNESS_AS_OF', '') -%}
    {%- if not as_of -%}
        {{ current_timestamp() }}
    {%- else -%}
        {#- fromisoformat raises on anything but an ISO 8601 instant: no SQL gets through -#}
        {%- set instant = modules.datetime.datetime.fromisoformat(as_of | string) -%}
        {%- if instant.tzinfo is none -%}
            {{ exceptions.raise_compiler_error(
                "YTEMPIRE_FRESHNESS_AS_OF must carry its UTC offset (e.g. "
                ~ "2025-01-03T08:00:00+00:00), not " ~ as_of
            ) }}
        {%- endif -%}
        cast('{{ instant.isoformat() }}' as timestamp with time zone)
    {%- endif -%}
{%- endmacro %}
