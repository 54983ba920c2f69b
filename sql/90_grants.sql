-- Privileges between the roles, for objects that exist and for those created
-- later (dlt and dbt create tables at run time). Re-runnable.

-- The loader writes the landing, operational, streaming and analytics schemas
-- (it owns them); the transformer reads all of them.
grant usage on schema raw_youtube, raw_events, ytempire, streaming, analytics
    to ytempire_transformer;
grant select on all tables in schema raw_youtube, raw_events, ytempire, streaming, analytics
    to ytempire_transformer;
alter default privileges for role ytempire_loader
    in schema raw_youtube, raw_events, ytempire, streaming, analytics
    grant select on tables to ytempire_transformer;

-- Analysts read the marts and nothing else: no usage on any other schema,
-- no create anywhere, and a read-only default transaction (00_roles.sql).
revoke all on schema raw_youtube, raw_events, ytempire, streaming, analytics,
    staging, intermediate, snapshots, seeds, public from analyst;
grant usage on schema marts to analyst;
grant select on all tables in schema marts to analyst;
alter default privileges for role ytempire_transformer in schema marts
    grant select on tables to analyst;
