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

reset role;
