{#
    Analysts' materialized views, built so that the last good version stays
    readable whatever happens to a build (dbt_project/README.md, "No build
    drops what it does not rebuild").

    dbt-postgres refreshes an existing materialized view in place: REFRESH
    locks out its readers for the whole query, never applies a changed SQL,
    and re-reads whatever the parent relations are now. Here every build
    creates the view anew under `<name>__dbt_tmp` with its indexes, and swaps
    it in by two renames in one transaction with its grants and comments:
    readers wait only for the renames, and a failed build leaves the old
    view in place. The old view is dropped after the commit.
#}
{% materialization materialized_view, adapter='postgres' %}
    {%- set existing_relation = relation_in_catalog(this) -%}
    {%- set target_relation = this.incorporate(type=this.MaterializedView) -%}
    {%- set intermediate_relation = make_intermediate_relation(target_relation) -%}
    {%- set backup_relation = make_backup_relation(
        target_relation,
        this.MaterializedView if existing_relation is none else existing_relation.type,
    ) -%}
    {%- set grant_config = config.get('grants') -%}

    {{ drop_relation_if_exists(load_cached_relation(intermediate_relation)) }}
    {{ drop_relation_if_exists(load_cached_relation(backup_relation)) }}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    -- `BEGIN` happens here:
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('main') -%}
        {{ get_create_materialized_view_as_sql(intermediate_relation, sql) }}
    {%- endcall %}

    {% if existing_relation is not none %}
        {{ adapter.rename_relation(existing_relation, backup_relation) }}
    {% endif %}
    {{ adapter.rename_relation(intermediate_relation, target_relation) }}

    {% do apply_grants(
        target_relation,
        grant_config,
        should_revoke=should_revoke(existing_relation, full_refresh_mode=True),
    ) %}
    {% do persist_docs(target_relation, model) %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    -- `COMMIT` happens here
    {{ adapter.commit() }}

    {{ drop_relation_if_exists(backup_relation) }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
