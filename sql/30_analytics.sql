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

reset role;
