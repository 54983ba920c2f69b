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
    staging, intermediate, marts_internal, snapshots, seeds, public from analyst;
grant usage on schema marts to analyst;
-- Which marts the analyst reads is dbt's to say: the models documented with
-- `access: public` carry `grants: {select: [analyst]}` and every other mart
-- `grants: {select: []}` (dbt_project/dbt_project.yml), so the docs and the
-- privileges cannot disagree. Nothing here grants tables, and the default
-- privilege earlier versions set on new marts is withdrawn.
alter default privileges for role ytempire_transformer in schema marts
    revoke select on tables from analyst;
-- The marts analysts do not read live in marts_internal (10_schemas.sql),
-- where the analyst has no usage: it cannot see them either.

-- The rest of the cluster. PostgreSQL grants CONNECT and TEMPORARY on every
-- database to PUBLIC, so without this the analyst could connect to
-- `postgres` or `template1`, lift its read-only default there and create
-- temporary tables. 10_schemas.sql closes the warehouse itself; here every
-- other database loses PUBLIC's TEMPORARY, and every database that is not a
-- warehouse also loses PUBLIC's CONNECT. A warehouse is a database in which
-- ytempire_loader owns objects (one that `ytempire db init` built; its own
-- init grants the analyst CONNECT there). Every other non-superuser login
-- role is granted back what PUBLIC gave it, so only the analyst loses access:
-- loaders, dbt and other applications sharing the cluster connect as before.
-- A database dropped while this runs (a test session ending) is skipped.
-- (CREATE DATABASE gives a new database PUBLIC's defaults again: the
-- privilege tests check the cluster under the init lock after a sweep.)
do $$
declare
    db record;
    keep text;
begin
    select string_agg(quote_ident(rolname), ', ' order by rolname) into keep
    from pg_roles
    where rolcanlogin and not rolsuper and rolname <> 'analyst';
    for db in
        select
            d.datname,
            exists (
                select from pg_shdepend as dep
                where dep.dbid = d.oid
                    and dep.deptype = 'o'
                    and dep.refclassid = 'pg_authid'::regclass
                    and dep.refobjid = 'ytempire_loader'::regrole
            ) as is_warehouse
        from pg_database as d
        where d.datallowconn and d.datname <> current_database()
    loop
        begin
            execute format('revoke temporary on database %I from public, analyst', db.datname);
            if keep is not null then
                execute format('grant temporary on database %I to %s', db.datname, keep);
            end if;
            if not db.is_warehouse then
                execute format('revoke connect on database %I from public, analyst', db.datname);
                if keep is not null then
                    execute format('grant connect on database %I to %s', db.datname, keep);
                end if;
            end if;
        exception when others then
            -- Dropped meanwhile, or locked by a concurrent drop: it is going away.
            raise notice 'privileges of database % not set: %', db.datname, sqlerrm;
        end;
    end loop;
end
$$;
