-- dlt's staging schema for the merge loads into raw_youtube (issue 3). Re-runnable.
-- dlt loads each merge table into <dataset>_staging first, then deletes and
-- inserts by primary key in one transaction; the loader cannot create
-- schemas, so the staging schema is made here and owned by the loader.
create schema if not exists raw_youtube_staging authorization ytempire_loader;
revoke all on schema raw_youtube_staging from public;
