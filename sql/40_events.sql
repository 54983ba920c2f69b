-- Kafka events: the producer's transactional outbox, the processor's
-- idempotency ledger, the latest metrics of each video, and the staging
-- schema dlt merges raw_events through. Re-runnable.

-- dlt loads merge tables through <dataset>_staging; the loader cannot create
-- schemas, so it is made here.
create schema if not exists raw_events_staging authorization ytempire_loader;

set role ytempire_loader;

-- Transactional outbox: a video row and the event announcing it are written
-- in one transaction; the relay publishes pending rows and marks them sent.
-- A crash between publish and mark republishes the same event_id, which the
-- landing and the processor deduplicate.
create table if not exists ytempire.outbox (
    event_id        uuid primary key,
    topic           text not null,
    message_key     text,
    payload         jsonb not null,
    created_at      timestamptz not null default now(),
    attempts        integer not null default 0,
    last_error      text,
    sent_at         timestamptz
);

create index if not exists outbox_pending_idx
    on ytempire.outbox (created_at) where sent_at is null;

-- Every event whose database effects the processor committed, written in the
-- same transaction as those effects: a replayed event finds itself here and
-- changes nothing.
create table if not exists ytempire.processed_events (
    event_id        uuid primary key,
    event_type      text not null,
    kafka_topic     text not null,
    kafka_partition integer not null,
    kafka_offset    bigint not null,
    processed_at    timestamptz not null default now()
);

-- Latest cumulative counters of each video (from the newest observation).
-- The processor (their only writer) moves a channel's totals by each change
-- of its videos' counters, so the totals stay the sum over the videos, and a
-- replayed event (already in processed_events) moves nothing.
alter table ytempire.videos
    add column if not exists views bigint not null default 0,
    add column if not exists likes bigint not null default 0,
    add column if not exists comments bigint not null default 0,
    add column if not exists metrics_observed_at timestamptz;

alter table ytempire.channels
    add column if not exists total_views bigint not null default 0,
    add column if not exists total_likes bigint not null default 0,
    add column if not exists total_comments bigint not null default 0;

reset role;

grant usage on schema raw_events_staging to ytempire_transformer;
