-- One row per channel, day, device type and operating system of the channels'
-- channel_device_os reports: views, engaged views, minutes watched, the share
-- of the day's views and the day's views methodology.
{{ owner_views_by(
    'stg_youtube_reporting__channel_device_os', ['device_type', 'operating_system']
) }}
