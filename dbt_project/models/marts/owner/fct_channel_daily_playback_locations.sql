-- One row per channel, day and playback location (playback_location_type) of
-- the channels' channel_playback_location reports: views, engaged views,
-- minutes watched, the share of the day's views and the day's views
-- methodology.
{{ owner_views_by(
    'stg_youtube_reporting__channel_playback_location', ['playback_location_type']
) }}
