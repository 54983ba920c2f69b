-- Schemas of the warehouse database and who may use them. Re-runnable.
-- Runs connected to the warehouse database as the superuser.

-- Nobody connects or makes temporary tables unless granted below.
do $$
begin
    execute format('revoke all on database %I from public', current_database());
    execute format(
        'grant connect, temporary on database %I to ytempire_loader, ytempire_transformer',
        current_database()
    );
    execute format('grant connect on database %I to analyst', current_database());
end
$$;

-- The public schema is for nobody's objects; only the writing roles may look in.
revoke all on schema public from public;
grant usage on schema public to ytempire_loader, ytempire_transformer;

-- Landing (dlt) and operational schemas, written by the loader.
create schema if not exists raw_youtube authorization ytempire_loader;
create schema if not exists raw_events authorization ytempire_loader;
create schema if not exists ytempire authorization ytempire_loader;
create schema if not exists streaming authorization ytempire_loader;
create schema if not exists analytics authorization ytempire_loader;

-- dbt's schemas, owned by the transformer so dbt can create and swap relations.
create schema if not exists staging authorization ytempire_transformer;
create schema if not exists intermediate authorization ytempire_transformer;
create schema if not exists marts authorization ytempire_transformer;
-- The marts analysts do not read (dbt puts every mart not `access: public`
-- here: macro generate_schema_name), so `marts` shows the analyst exactly the
-- relations it may read.
create schema if not exists marts_internal authorization ytempire_transformer;
create schema if not exists snapshots authorization ytempire_transformer;
create schema if not exists seeds authorization ytempire_transformer;
