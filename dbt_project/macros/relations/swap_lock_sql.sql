{% macro swap_lock_sql() -%}
    select pg_advisory_xact_lock(hashtext('ytempire'), hashtext('relation swap'))
{%- endmacro %}
