{#
    A seed's full refresh, without dropping its readers: dbt-postgres drops the
    old table (with CASCADE) and creates the new one. Here the old table is
    renamed away (its readers noted), the new one created under its name, the
    readers re-pointed to it, and the old one dropped, or retired while a
    materialized view reads it, all in the seed's transaction. Without
    --full-refresh the table is truncated and refilled, as dbt does.
#}
{% macro postgres__reset_csv_table(model, full_refresh, old_relation, agate_table) -%}
    {%- if not full_refresh -%}
        {{ return(default__reset_csv_table(model, full_refresh, old_relation, agate_table)) }}
    {%- endif -%}
    {%- set backup_relation = make_backup_relation(old_relation, old_relation.type) -%}
    {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}
    {% do adapter.rename_relation(old_relation, backup_relation) %}
    {%- set sql = create_csv_table(model, agate_table) -%}
    {% do repoint_readers(old_relation) %}
    {% do adapter.drop_relation(backup_relation) %}
    {{ return(sql) }}
{%- endmacro %}
