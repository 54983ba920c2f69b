{#
    Every rename dbt makes goes through here, and a swap is two of them:
    the old relation moves away (to `<name>__dbt_backup`), the new one takes
    its name (from `<name>__dbt_tmp`). PostgreSQL's views follow the object
    they read, not its name, so dbt's later `drop ... cascade` of the old one
    dropped them. Here the views reading a relation that is renamed away are
    noted (with their definitions, as they read now), and once a relation
    takes that name in the same transaction they are re-pointed to it
    (macro repoint_readers). Materialized views are not: they keep their rows
    on the old relation until their own build.
#}
{% macro postgres__rename_relation(from_relation, to_relation) -%}
    {% call statement('rename_relation') -%}
        {{ swap_lock_sql() }};
        {{ stash_readers_sql(from_relation) }};
        alter table {{ from_relation }}
        rename to {{ adapter.quote_as_configured(to_relation.identifier, 'identifier') }}
    {%- endcall %}
    {% do repoint_readers(to_relation) %}
{%- endmacro %}
