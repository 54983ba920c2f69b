{% macro readers_sql(oid) -%}
    select distinct view_rule.ev_class::regclass as reader
    from pg_depend as dependency
    inner join pg_rewrite as view_rule on dependency.objid = view_rule.oid
    where
        dependency.classid = 'pg_rewrite'::regclass
        and dependency.refclassid = 'pg_class'::regclass
        and dependency.refobjid = {{ oid }}
        and view_rule.ev_class <> dependency.refobjid
{%- endmacro %}
