-- Analysts read the mv_ materialized views of `marts` and nothing upstream.
-- 90_grants.sql grants select on every marts relation by default; here the
-- default is withdrawn and any existing grant on a table or plain view is
-- revoked. dbt grants select on the materialized views itself (the `grants`
-- config of models/marts/analytics). Re-runnable; runs after 90_grants.sql.

alter default privileges for role ytempire_transformer in schema marts
    revoke select on tables from analyst;

do $$
declare
    rel record;
begin
    for rel in
        select cls.relname
        from pg_class as cls
        inner join pg_namespace as nsp on cls.relnamespace = nsp.oid
        where nsp.nspname = 'marts' and cls.relkind in ('r', 'p', 'v', 'f')
    loop
        execute format('revoke all on marts.%I from analyst', rel.relname);
    end loop;
end
$$;
