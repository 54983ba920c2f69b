-- Which views read each relation the project builds, with the definition a
-- rebuild applies again: `dbt run -s <model>` re-points the plain views that
-- read it, and the materialized views keep the old relation (retired) until
-- their own builds (dbt_project/README.md, "No build drops what it does not
-- rebuild"). A data engineer's question before a one-model run or a retry.
{%- set schemas = [] -%}
{%- for node in graph.nodes.values() if node.resource_type != 'test' -%}
    {%- set schema = dbt.string_literal(node.schema) -%}
    {%- do schemas.append(schema) if schema not in schemas -%}
{%- endfor %}
with

built_relations as (
    select
        relation.oid,
        namespace.nspname as relation_schema,
        relation.relname as relation_name
    from pg_class as relation
    inner join pg_namespace as namespace on relation.relnamespace = namespace.oid
    where
        namespace.nspname in ({{ schemas | sort | join(', ') }})
        and relation.relkind in ('r', 'p', 'v', 'm')
        and strpos(relation.relname, '__dbt_') = 0
)

select
    built_relations.relation_schema,
    built_relations.relation_name,
    readers.reader_schema,
    readers.reader_name,
    readers.reader_kind,
    readers.reader_definition
from built_relations
cross join lateral ({{ reader_definitions_sql('built_relations.oid') }}) as readers
order by
    built_relations.relation_schema,
    built_relations.relation_name,
    readers.reader_schema,
    readers.reader_name
