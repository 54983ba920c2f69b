-- One row per channel, day and traffic source (traffic_source_type) of the
-- channels' channel_traffic_source reports: views, engaged views, minutes
-- watched, the share of the day's views and the day's views methodology.
{{ owner_views_by(
    'stg_youtube_reporting__channel_traffic_source', ['traffic_source_type']
) }}
