-- Cluster-wide login roles of the warehouse. Re-runnable.
-- Passwords are not set here: `ytempire db init` sets them from the
-- YTEMPIRE_PG_*_PASSWORD variables, so none lives in a committed file.
--
--   ytempire_loader       dlt pipelines, event processor, streaming sinks:
--                         writes raw_youtube, raw_events, ytempire, streaming,
--                         analytics.
--   ytempire_transformer  dbt: reads the raw and operational schemas, owns
--                         staging, intermediate, marts, snapshots, seeds.
--   analyst               SQL analysts: reads the public marts (schema
--                         marts, its search_path), writes nothing.

do $$
declare
    role_name text;
begin
    foreach role_name in array array['ytempire_loader', 'ytempire_transformer', 'analyst']
    loop
        if not exists (select from pg_roles where rolname = role_name) then
            execute format('create role %I login', role_name);
        end if;
    end loop;
end
$$;

alter role ytempire_loader login nosuperuser nocreatedb nocreaterole;
alter role ytempire_transformer login nosuperuser nocreatedb nocreaterole;
alter role analyst login nosuperuser nocreatedb nocreaterole;

-- Belt and braces: even a grant made by mistake cannot let an analyst write.
alter role analyst set default_transaction_read_only = on;
-- The analyst lands in the marts: unqualified names and psql's \dt, \dv, \dm
-- find the relations it reads (marts holds exactly those: 10_schemas.sql).
alter role analyst set search_path = marts;

-- dbt's models sort and hash millions of snapshot and event rows (dedup,
-- counter differencing): give its sessions room to do that in memory instead
-- of spilling to temporary files. Two dbt threads on a small server stay well
-- inside its RAM; index builds of a full refresh get the maintenance budget.
alter role ytempire_transformer set work_mem = '256MB';
alter role ytempire_transformer set maintenance_work_mem = '512MB';
-- JIT compiles every costly plan again on each run: about 1 s per incremental
-- model for expressions that then run over one day's rows.
alter role ytempire_transformer set jit = off;
