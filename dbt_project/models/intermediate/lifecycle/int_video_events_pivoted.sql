{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='platform_video_id',
        on_schema_change='fail',
        indexes=[
            {'columns': ['platform_video_id'], 'unique': true},
            {'columns': ['last_event_at']},
            {'columns': ['youtube_video_id']},
        ],
    )
}}

-- One row per platform video: when each lifecycle step first happened and
-- the attributes its events carried (the latest quality score wins).
--
-- Every measure is a first, a latest or a max, so pivots of two sets of
-- events merge into the pivot of their union, and merging an event twice
-- changes nothing. An incremental run therefore pivots only the events of
-- the lookback window and merges each video's result into its stored row.
with

events as (
    select
        platform_video_id,
        channel_id,
        event_type,
        occurred_at,
        payload,
        youtube_video_id
    from {{ ref('stg_events__events') }}
    where
        platform_video_id is not null
        {% if is_incremental() %}
            and occurred_at >= {{ incremental_window_start_at('last_event_at') }}
        {% endif %}
        and event_type in (
            'video_generated', 'video_uploaded', 'video_published', 'quality_check'
        )
),

pivoted as (
    select
        platform_video_id,
        max(channel_id) as channel_id,
        max(occurred_at) as last_event_at,
        max(youtube_video_id) as youtube_video_id,
        min(occurred_at) filter (where event_type = 'video_generated') as generated_at,
        min(occurred_at) filter (where event_type = 'video_uploaded') as uploaded_at,
        min(occurred_at) filter (where event_type = 'video_published') as published_at,
        min(occurred_at) filter (where event_type = 'quality_check')
            as quality_checked_at,
        max(occurred_at) filter (where event_type = 'quality_check')
            as quality_scored_at,
        max((payload ->> 'generation_cost_usd')::numeric) filter (
            where event_type = 'video_generated'
        ) as generation_cost_usd,
        max((payload ->> 'duration_seconds')::integer) filter (
            where event_type = 'video_generated'
        ) as duration_seconds,
        max(payload ->> 'niche') filter (where event_type = 'video_generated') as niche,
        (array_agg(
            (payload ->> 'quality_score')::numeric order by occurred_at desc
        ) filter (where event_type = 'quality_check'))[1] as quality_score
    from events
    group by platform_video_id
),

{% if is_incremental() %}
    -- least/greatest skip nulls, as min/max do: a step missing on one side
    -- takes the other side's value.
    merged as (
        select
            pivoted.platform_video_id,
            greatest(pivoted.channel_id, built.channel_id) as channel_id,
            greatest(pivoted.last_event_at, built.last_event_at) as last_event_at,
            greatest(pivoted.youtube_video_id, built.youtube_video_id)
                as youtube_video_id,
            least(pivoted.generated_at, built.generated_at) as generated_at,
            least(pivoted.uploaded_at, built.uploaded_at) as uploaded_at,
            least(pivoted.published_at, built.published_at) as published_at,
            least(pivoted.quality_checked_at, built.quality_checked_at)
                as quality_checked_at,
            greatest(pivoted.quality_scored_at, built.quality_scored_at)
                as quality_scored_at,
            greatest(pivoted.generation_cost_usd, built.generation_cost_usd)
                as generation_cost_usd,
            greatest(pivoted.duration_seconds, built.duration_seconds)
                as duration_seconds,
            greatest(pivoted.niche, built.niche) as niche,
            case
                when built.quality_scored_at > pivoted.quality_scored_at
                    or pivoted.quality_scored_at is null
                    then built.quality_score
                else pivoted.quality_score
            end as quality_score
        from pivoted
        left join {{ this }} as built
            on pivoted.platform_video_id = built.platform_video_id
    ),
{% endif %}

final as (
    select
        platform_video_id,
        channel_id,
        youtube_video_id,
        generated_at,
        uploaded_at,
        published_at,
        quality_checked_at,
        quality_scored_at,
        generation_cost_usd::numeric(6, 4) as generation_cost_usd,
        duration_seconds,
        niche,
        quality_score::numeric(5, 2) as quality_score,
        extract(epoch from uploaded_at - generated_at)::bigint
            as generate_to_upload_seconds,
        extract(epoch from published_at - uploaded_at)::bigint
            as upload_to_publish_seconds,
        extract(epoch from quality_checked_at - published_at)::bigint
            as publish_to_quality_check_seconds,
        extract(epoch from published_at - generated_at)::bigint
            as generate_to_publish_seconds,
        case
            when quality_checked_at is not null then 'quality_checked'
            when published_at is not null then 'published'
            when uploaded_at is not null then 'uploaded'
            when generated_at is not null then 'generated'
        end as lifecycle_stage,
        last_event_at
    from {{ 'merged' if is_incremental() else 'pivoted' }}
    {% if not is_incremental() %}
        -- Stored in event order: daily runs rewrite the newest videos' rows.
        order by last_event_at, platform_video_id
    {% endif %}
)

select * from final
