-- Every CPM override configures something that exists: a niche at least one
-- channel has, or a known channel id. An override naming anything else
-- (`technology` where the channels say `tech`) would silently never apply.
-- Severity from var cpm_override_check_severity: `warn` by default (a small
-- or partial network may lack a niche the full one has: the build names the
-- override and goes on), `error` to fail the build, as production should.
-- Returns the overrides that match nothing.
-- In group metrics: it reads int_channels_joined, private to that group.
{{ config(severity=var('cpm_override_check_severity'), group='metrics') }}

with

overrides as (
    select
        override_scope,
        scope_value
    from {{ ref('channel_cpm_overrides') }}
),

channels as (
    select
        channel_id,
        niche
    from {{ ref('int_channels_joined') }}
),

final as (
    select
        overrides.override_scope,
        overrides.scope_value
    from overrides
    left join channels
        on
            (
                overrides.override_scope = 'niche'
                and overrides.scope_value = channels.niche
            )
            or (
                overrides.override_scope = 'channel'
                and overrides.scope_value = channels.channel_id
            )
    group by overrides.override_scope, overrides.scope_value
    having count(channels.channel_id) = 0
)

select * from final
