-- The signed webhook's deliveries (platform_services/webhook.py). Re-runnable.
--
-- One row per delivery whose effects committed, written in the same
-- transaction as its video_metrics row and only after its Redis cache entry
-- and its video-analytics message were written: a replayed delivery id (or
-- the same event under a new delivery id) finds itself here, is acknowledged
-- with the stored response, and stores and publishes nothing again.

set role ytempire_loader;

create table if not exists ytempire.webhook_deliveries (
    delivery_id         text primary key
        check (delivery_id ~ '^[A-Za-z0-9_-]{8,64}$'),
    event_id            uuid not null unique,
    video_id            uuid not null references ytempire.videos (video_id),
    youtube_video_id    text not null,
    signed_at           timestamptz not null,
    received_at         timestamptz not null default now(),
    response            jsonb not null
);

reset role;
