-- Operational tables of the platform (the reference design's `ytempire`
-- schema): channels, the videos the platform generates and publishes, and
-- the time series of their metrics. Re-runnable.
--
-- channel_id is the YouTube channel id (UC + 22 characters), so the
-- operational tables join the API's raw data without a mapping table.
-- video_id is the platform's own id (a UUID, set when a video is generated);
-- youtube_video_id is set when the video is published.

-- Tables belong to the role that writes them.
set role ytempire_loader;

create table if not exists ytempire.channels (
    channel_id      text primary key
        check (channel_id ~ '^UC[A-Za-z0-9_-]{22}$'),
    title           text not null default '',
    niche           text,
    status          text not null default 'active'
        check (status in ('active', 'paused', 'archived')),
    video_count     integer not null default 0 check (video_count >= 0),
    created_at      timestamptz not null default now(),
    updated_at      timestamptz not null default now()
);

create table if not exists ytempire.videos (
    video_id            uuid primary key,
    channel_id          text not null references ytempire.channels (channel_id),
    title               text not null default '',
    description         text not null default '',
    status              text not null default 'processing'
        check (status in ('processing', 'generated', 'uploaded', 'published', 'failed')),
    youtube_video_id    text unique
        check (youtube_video_id ~ '^[A-Za-z0-9_-]{11}$'),
    duration_seconds    integer check (duration_seconds between 30 and 3600),
    quality_score       numeric(5, 2) check (quality_score between 0 and 100),
    generation_cost_usd numeric(6, 4) check (generation_cost_usd between 0 and 3),
    published_at        timestamptz,
    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now()
);

create index if not exists videos_channel_created_idx
    on ytempire.videos (channel_id, created_at);

-- One row per observation of a video's cumulative counters.
create table if not exists ytempire.video_metrics (
    video_id            uuid not null references ytempire.videos (video_id),
    observed_at         timestamptz not null,
    views               bigint not null default 0 check (views >= 0),
    likes               bigint not null default 0 check (likes >= 0),
    comments            bigint not null default 0 check (comments >= 0),
    watch_time_minutes  numeric(14, 2) not null default 0,
    source              text not null default 'unknown',
    updated_at          timestamptz not null default now(),
    primary key (video_id, observed_at)
);

create index if not exists video_metrics_observed_idx
    on ytempire.video_metrics (observed_at);

reset role;
