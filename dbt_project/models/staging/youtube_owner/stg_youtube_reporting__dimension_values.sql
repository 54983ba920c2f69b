-- What the Reporting API's numeric dimension codes mean, one row per dimension
-- and code, from the Dimensions page of YouTube's Reporting API docs
-- (developers.google.com/youtube/reporting/v1/reports/dimensions). A code
-- YouTube adds later has no row here: the marts show it as unknown (<code>)
-- rather than drop its views.
with

codes (dimension, code, value_name) as (
    values
    ('traffic_source_type', 0, 'Direct or unknown'),
    ('traffic_source_type', 1, 'YouTube advertising'),
    ('traffic_source_type', 3, 'Browse features'),
    ('traffic_source_type', 4, 'YouTube channels'),
    ('traffic_source_type', 5, 'YouTube search'),
    ('traffic_source_type', 7, 'Suggested videos'),
    ('traffic_source_type', 8, 'Other YouTube features'),
    ('traffic_source_type', 9, 'External'),
    ('traffic_source_type', 11, 'Video cards and annotations'),
    ('traffic_source_type', 14, 'Playlists'),
    ('traffic_source_type', 17, 'Notifications'),
    ('traffic_source_type', 18, 'Playlist pages'),
    ('traffic_source_type', 19, 'Programming from claimed content'),
    ('traffic_source_type', 20, 'Interactive video endscreen'),
    ('traffic_source_type', 23, 'Stories'),
    ('traffic_source_type', 24, 'Shorts feed'),
    ('traffic_source_type', 25, 'Product pages'),
    ('traffic_source_type', 26, 'Hashtag pages'),
    ('traffic_source_type', 27, 'Sound pages'),
    ('traffic_source_type', 28, 'Live redirect'),
    ('traffic_source_type', 30, 'Remixed video'),
    ('traffic_source_type', 31, 'Vertical live feed'),
    ('traffic_source_type', 32, 'Related video'),
    ('device_type', 100, 'Unknown'),
    ('device_type', 101, 'Desktop'),
    ('device_type', 102, 'TV'),
    ('device_type', 103, 'Game console'),
    ('device_type', 104, 'Mobile phone'),
    ('device_type', 105, 'Tablet'),
    ('operating_system', 1, 'Other'),
    ('operating_system', 2, 'Windows'),
    ('operating_system', 3, 'Windows Mobile'),
    ('operating_system', 4, 'Android'),
    ('operating_system', 5, 'iOS'),
    ('operating_system', 6, 'Symbian'),
    ('operating_system', 7, 'BlackBerry'),
    ('operating_system', 9, 'Macintosh'),
    ('operating_system', 10, 'PlayStation'),
    ('operating_system', 11, 'Bada'),
    ('operating_system', 12, 'WebOS'),
    ('operating_system', 13, 'Linux'),
    ('operating_system', 14, 'Hiptop'),
    ('operating_system', 15, 'MeeGo'),
    ('operating_system', 16, 'Wii'),
    ('operating_system', 17, 'Xbox'),
    ('operating_system', 18, 'PlayStation Vita'),
    ('operating_system', 19, 'Smart TV'),
    ('operating_system', 20, 'Nintendo 3DS'),
    ('operating_system', 21, 'Chromecast'),
    ('operating_system', 22, 'Tizen'),
    ('operating_system', 23, 'Firefox'),
    ('operating_system', 24, 'RealMedia'),
    ('operating_system', 25, 'KaiOS'),
    ('operating_system', 26, 'Roku'),
    ('operating_system', 27, 'Nintendo Switch'),
    ('operating_system', 28, 'Apple tvOS'),
    ('operating_system', 29, 'Fire OS'),
    ('operating_system', 30, 'ChromeOS'),
    ('operating_system', 31, 'Vidaa'),
    ('playback_location_type', 0, 'YouTube watch page'),
    ('playback_location_type', 1, 'Embedded player'),
    ('playback_location_type', 2, 'YouTube channel page'),
    ('playback_location_type', 5, 'Other YouTube pages'),
    ('playback_location_type', 7, 'YouTube browse pages'),
    ('playback_location_type', 8, 'YouTube search results'),
    ('playback_location_type', 10, 'YouTube Shorts')
),

final as (
    select
        dimension::text as dimension,
        code::integer as code,
        value_name::text as value_name
    from codes
)

select * from final
