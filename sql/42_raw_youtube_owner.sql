-- Landing schemas of the owner's APIs (issue 28): the YouTube Reporting API's bulk
-- reports and the Analytics API's revenue. Re-runnable.
--
-- dlt creates the tables on a lander's first load (ingestion/raw_tables.py gives
-- their DDL). Both sources load with dlt's `merge` (delete-insert by day), which
-- stages each table in <dataset>_staging first; the loader cannot create schemas,
-- so the four are made here and owned by the loader.
create schema if not exists raw_youtube_reporting authorization ytempire_loader;
create schema if not exists raw_youtube_reporting_staging authorization ytempire_loader;
create schema if not exists raw_youtube_analytics authorization ytempire_loader;
create schema if not exists raw_youtube_analytics_staging authorization ytempire_loader;
revoke all on schema raw_youtube_reporting_staging, raw_youtube_analytics_staging from public;

-- The transformer (dbt) reads the landing schemas, as it reads raw_youtube; the
-- analyst reads none of them (marts only: 90_grants.sql).
grant usage on schema raw_youtube_reporting, raw_youtube_analytics to ytempire_transformer;
grant select on all tables in schema raw_youtube_reporting, raw_youtube_analytics
    to ytempire_transformer;
alter default privileges for role ytempire_loader
    in schema raw_youtube_reporting, raw_youtube_analytics
    grant select on tables to ytempire_transformer;
revoke all on schema raw_youtube_reporting, raw_youtube_analytics from analyst;
