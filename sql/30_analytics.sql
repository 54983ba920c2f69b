-- Results of the quality and monitoring jobs (`analytics` schema). Unlike the
-- reference design's in-memory history, anomaly detection reads its history
-- back from analytics.metric_observations. Re-runnable.

-- Tables belong to the role that writes them.
set role ytempire_loader;

create table if not exists analytics.metric_observations (
    metric_name     text not null,
    observed_at     timestamptz not null,
    value           double precision not null,
    primary key (metric_name, observed_at)
);

create table if not exists analytics.anomalies (
    anomaly_id      bigint generated always as identity primary key,
    metric_name     text not null,
    value           double precision not null,
    expected_low    double precision,
    expected_high   double precision,
    method          text not null,
    severity        text not null check (severity in ('medium', 'high')),
    details         jsonb not null default '{}'::jsonb,
    detected_at     timestamptz not null default now()
);

create index if not exists anomalies_metric_detected_idx
    on analytics.anomalies (metric_name, detected_at);

create table if not exists analytics.quality_results (
    run_id          text not null,
    checked_at      timestamptz not null default now(),
    dimension       text not null check (dimension in (
        'completeness', 'accuracy', 'consistency', 'timeliness', 'uniqueness', 'validity'
    )),
    score           numeric(5, 2) not null check (score between 0 and 100),
    details         jsonb not null default '{}'::jsonb,
    primary key (run_id, dimension)
);

-- One row per attempt of a pipeline stage for one business day: what the daily
-- report reads for "what ran, how long, what failed". Written by
-- ytempire.stage_runs.record_stage, whoever runs the stage (CLI, Airflow task).
create table if not exists analytics.pipeline_stage_runs (
    stage_run_id    bigint generated always as identity primary key,
    run_date        date not null,
    stage           text not null,
    status          text not null check (status in ('running', 'success', 'failed')),
    started_at      timestamptz not null default clock_timestamp(),
    finished_at     timestamptz,
    error           text,
    details         jsonb not null default '{}'::jsonb,
    check ((status = 'running') = (finished_at is null))
);

create index if not exists pipeline_stage_runs_date_stage_idx
    on analytics.pipeline_stage_runs (run_date, stage, started_at);

-- --- Evolutions (issue 18): re-runnable; existing rows keep their values -----------------

-- A series is (metric_name, entity_id): one metric of one channel, source or
-- stage. entity_id '' is a network-wide series. source says where a value came
-- from ('warehouse' collected from the marts and raw tables, 'simulated' for
-- the labelled history the simulator lands).
alter table analytics.metric_observations
    add column if not exists entity_id text not null default '',
    add column if not exists source text not null default 'warehouse',
    add column if not exists recorded_at timestamptz not null default now();

do $$
begin
    if (select array_length(conkey, 1) from pg_constraint
        where conrelid = 'analytics.metric_observations'::regclass and contype = 'p') <> 3
    then
        alter table analytics.metric_observations drop constraint metric_observations_pkey;
        alter table analytics.metric_observations
            add constraint metric_observations_pkey
            primary key (metric_name, entity_id, observed_at);
    end if;
end $$;

-- One row per (series, day, method) the detector flagged; re-running a day
-- updates the row instead of adding one.
alter table analytics.anomalies
    add column if not exists entity_id text not null default '',
    add column if not exists observed_date date,
    add column if not exists direction text check (direction in ('up', 'down')),
    add column if not exists z_score double precision,
    add column if not exists episode_id bigint;

create unique index if not exists anomalies_series_day_method_idx
    on analytics.anomalies (metric_name, entity_id, observed_date, method);

-- An episode is a run of flagged days of one series (a gap of at most one
-- normal day joins two runs). It is alerted once: alerted_at is set when its
-- alert is published on `anomaly-alerts`.
create table if not exists analytics.anomaly_episodes (
    episode_id      bigint generated always as identity primary key,
    metric_name     text not null,
    entity_id       text not null default '',
    direction       text not null check (direction in ('up', 'down')),
    first_date      date not null,
    last_date       date not null,
    severity        text not null check (severity in ('medium', 'high')),
    peak_z          double precision not null,
    peak_value      double precision not null,
    expected_low    double precision,
    expected_high   double precision,
    alerted_at      timestamptz,
    unique (metric_name, entity_id, first_date),
    check (first_date <= last_date)
);

create index if not exists anomaly_episodes_series_idx
    on analytics.anomaly_episodes (metric_name, entity_id, last_date);

-- Quality scores per table and dimension; table_name 'all' holds the network
-- aggregate and dimension 'overall' the weighted score.
alter table analytics.quality_results
    add column if not exists run_date date,
    add column if not exists table_name text not null default 'all',
    add column if not exists checked_count bigint,
    add column if not exists failed_count bigint;

alter table analytics.quality_results
    drop constraint if exists quality_results_dimension_check;
alter table analytics.quality_results
    add constraint quality_results_dimension_check check (dimension in (
        'completeness', 'accuracy', 'consistency', 'timeliness', 'uniqueness', 'validity',
        'overall'
    ));

do $$
begin
    if (select array_length(conkey, 1) from pg_constraint
        where conrelid = 'analytics.quality_results'::regclass and contype = 'p') <> 3
    then
        alter table analytics.quality_results drop constraint quality_results_pkey;
        alter table analytics.quality_results
            add constraint quality_results_pkey primary key (run_id, table_name, dimension);
    end if;
end $$;

create index if not exists quality_results_run_date_idx
    on analytics.quality_results (run_date, checked_at);

-- One row per expectation per validation run of a Great Expectations checkpoint.
-- unexpected_sample holds up to 20 offending values, unexpected_rows the key
-- columns of up to 20 offending rows (which row broke which rule).
create table if not exists analytics.validation_results (
    run_id              text not null,
    run_date            date not null,
    checkpoint_name     text not null,
    suite_name          text not null,
    asset_name          text not null,
    expectation_index   integer not null,
    expectation_type    text not null,
    column_name         text,
    kwargs              jsonb not null default '{}'::jsonb,
    success             boolean not null,
    observed_value      jsonb,
    element_count       bigint,
    unexpected_count    bigint,
    unexpected_percent  double precision,
    unexpected_sample   jsonb,
    unexpected_rows     jsonb,
    exception_message   text,
    validated_at        timestamptz not null default now(),
    primary key (run_id, suite_name, expectation_index)
);

create index if not exists validation_results_date_idx
    on analytics.validation_results (run_date, checkpoint_name, validated_at);

-- Stage heartbeats (issue 27): a running stage's process writes heartbeat_at every
-- 30 s; a running row with no heartbeat for heartbeat_timeout_s is 'abandoned'
-- (its process was killed): ytempire/stage_runs.py.
alter table analytics.pipeline_stage_runs
    add column if not exists heartbeat_at timestamptz,
    add column if not exists heartbeat_timeout_s integer not null default 600
        check (heartbeat_timeout_s > 0);

do $$
begin
    if not exists (
        select from pg_constraint
        where conrelid = 'analytics.pipeline_stage_runs'::regclass
          and conname = 'pipeline_stage_runs_status_check'
          and pg_get_constraintdef(oid) like '%abandoned%'
    ) then
        alter table analytics.pipeline_stage_runs
            drop constraint if exists pipeline_stage_runs_status_check;
        alter table analytics.pipeline_stage_runs
            add constraint pipeline_stage_runs_status_check
            check (status in ('running', 'success', 'failed', 'abandoned'));
    end if;
end $$;

reset role;
