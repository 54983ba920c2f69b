-- Sink of the Spark Structured Streaming job (streaming/channel_windows.py):
-- sliding-window stats per channel. The windows' state lives here: each
-- micro-batch merges its rows into them and records how far it got
-- (stream_progress) in one transaction, so a replayed micro-batch merges
-- nothing twice (streaming/sink.py). Re-runnable.
--
-- The job aggregates per (window, channel, video) in Spark, because cumulative
-- counters (metrics_update views / revenue_usd are lifetime totals of a video)
-- can only be summed over a channel once per video. Each micro-batch merges
-- its video rows and, in the same transaction, recomputes the channel rows of
-- the windows it touched from them.

-- Tables belong to the role that writes them.
set role ytempire_loader;

-- One row per window, channel and video ('' for channel-level events).
create table if not exists streaming.channel_video_window_stats (
    window_start            timestamptz not null,
    window_end              timestamptz not null,
    channel_id              text not null,
    video_id                text not null,
    event_count             bigint not null check (event_count > 0),
    video_generated_count   bigint not null default 0,
    video_uploaded_count    bigint not null default 0,
    video_published_count   bigint not null default 0,
    metrics_update_count    bigint not null default 0,
    quality_check_count     bigint not null default 0,
    channel_created_count   bigint not null default 0,
    channel_updated_count   bigint not null default 0,
    other_event_count       bigint not null default 0,
    -- sum and number of metrics_update views reports (the average needs both)
    views_sum               bigint not null default 0,
    views_reports           bigint not null default 0,
    -- cumulative revenue of the video: highest and lowest report in the window
    revenue_max_usd         numeric(20, 6),
    revenue_min_usd         numeric(20, 6),
    last_event_at           timestamptz not null,
    batch_id                bigint not null,
    processed_at            timestamptz not null default clock_timestamp(),
    primary key (window_start, window_end, channel_id, video_id),
    check (window_end > window_start)
);

-- What operators read: one row per window and channel.
create table if not exists streaming.channel_window_stats (
    window_start            timestamptz not null,
    window_end              timestamptz not null,
    channel_id              text not null,
    event_count             bigint not null check (event_count > 0),
    video_count             bigint not null,
    video_generated_count   bigint not null,
    video_uploaded_count    bigint not null,
    video_published_count   bigint not null,
    metrics_update_count    bigint not null,
    quality_check_count     bigint not null,
    channel_created_count   bigint not null,
    channel_updated_count   bigint not null,
    other_event_count       bigint not null,
    -- mean of the views reported by metrics_update events (lifetime views of
    -- the reporting video), null when the window has no metrics_update
    avg_views               numeric(24, 4),
    -- lifetime revenue of the channel's videos reported in the window, each
    -- video at its highest (latest: counters only grow) report in the window
    revenue_usd             numeric(20, 6) not null,
    -- revenue those videos gained between their first and last report
    revenue_gain_usd        numeric(20, 6) not null,
    last_event_at           timestamptz not null,
    batch_id                bigint not null,
    processed_at            timestamptz not null default clock_timestamp(),
    primary key (window_start, window_end, channel_id),
    check (window_end > window_start)
);

-- "Latest windows of one channel" reads this index backwards.
create index if not exists channel_window_stats_channel_idx
    on streaming.channel_window_stats (channel_id, window_end desc);
create index if not exists channel_window_stats_window_end_idx
    on streaming.channel_window_stats (window_end desc);

-- One row per micro-batch of each query: what it read and wrote, and the
-- watermark it was judged by.
create table if not exists streaming.stream_batches (
    query_name      text not null,
    batch_id        bigint not null,
    input_rows      bigint,
    invalid_rows    bigint,
    late_rows       bigint,
    output_rows     bigint,
    max_event_at    timestamptz,
    watermark       timestamptz,
    processed_at    timestamptz not null default clock_timestamp(),
    primary key (query_name, batch_id)
);

-- Events that arrived after every window containing them had closed
-- (window end <= watermark): counted here per batch and channel, not ignored.
create table if not exists streaming.late_events (
    query_name      text not null,
    batch_id        bigint not null,
    channel_id      text not null,
    late_count      bigint not null check (late_count > 0),
    oldest_event_at timestamptz not null,
    newest_event_at timestamptz not null,
    watermark       timestamptz not null,
    processed_at    timestamptz not null default clock_timestamp(),
    primary key (query_name, batch_id, channel_id)
);

-- How far each query has merged into the tables above, in the transaction
-- that merged it: the next Kafka offset of each partition ({"topic":
-- {"partition": offset}}; a replayed micro-batch merges only the records past
-- these) and the latest valid event time merged (the next batch's watermark
-- is this less the delay). Truncate it with the window tables, or a rerun
-- skips what it finds merged. topic_ids ({"topic": "Kafka topic id"}, KIP-516)
-- names the topics those offsets belong to: a topic deleted and recreated
-- under the same name starts again at offset 0 with a new id, and the sink
-- refuses to merge it (its records would read as merged).
create table if not exists streaming.stream_progress (
    query_name      text primary key,
    next_offsets    jsonb not null default '{}',
    topic_ids       jsonb not null default '{}',
    max_event_at    timestamptz,
    batch_id        bigint,
    updated_at      timestamptz not null default clock_timestamp()
);
alter table streaming.stream_progress
    add column if not exists topic_ids jsonb not null default '{}';

reset role;
