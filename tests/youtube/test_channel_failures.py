"""One misbehaving channel, playlist, page or item costs only its own share (issue 15, item 1).

Each case runs the whole landing (simulator -> collector -> dlt -> the real
test database) and asserts the run record, what landed for the other channels
and the quota the simulator counted.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date, timedelta

import pytest

from ingestion.youtube.api import RetryPolicy
from ingestion.youtube.landing import make_pipeline, run_day
from simulation import ids
from simulation.network import Network, RealWorld, day_end
from simulation.youtube import MALFORMED, Fault, YouTubeSimulator

DAY = date(2025, 6, 1)  # a day of its own: other tests land 2025-01 to 2025-03
NO_WAIT = RetryPolicy(max_attempts=5, base_s=0.0, cap_s=0.0)


@pytest.fixture
def land(settings, redis_prefix, tmp_path):
    """run_day against a simulator of the given network (A, B, C = channels 0, 1, 2)."""
    sims: list[YouTubeSimulator] = []

    def start(network: Network) -> YouTubeSimulator:
        sims.append(YouTubeSimulator(network, day=DAY))
        sims[-1].start()
        return sims[-1]

    def run(sim: YouTubeSimulator, day: date = DAY, **extra):
        sim.set_day(day)
        yt = replace(settings, youtube_api_url=sim.url)
        chans = [c.channel_id for c in sim.network.channels]
        return run_day(
            day,
            chans,
            settings=yt,
            pipelines_dir=tmp_path,
            redis_prefix=redis_prefix,
            retry=NO_WAIT,
            pipeline_name=f"yt_{sim.network.seed}",
            **extra,
        )

    yield start, run
    for sim in sims:
        sim.stop()


def _seed(request) -> int:
    """A seed per test: each test's channels (and so rows) are its own."""
    return 1000 + abs(hash(request.node.name)) % 100_000


def _snapshots(pg_admin, table: str, day: date, channels: list[str]) -> dict[str, int]:
    found = pg_admin.execute(
        f"select channel_id, count(*) from raw_youtube.{table} "
        "where collection_date = %s and channel_id = any(%s) group by channel_id",
        (day, channels),
    ).fetchall()
    return dict(found)


def _run_record(pg_admin, day: date, channel_id: str):
    """status, channels_failed and channel_issues of the day's runs that name ``channel_id``."""
    return pg_admin.execute(
        "select status, channels_failed, channel_issues from raw_youtube.collection_runs "
        "where collection_date = %s and channel_issues ? %s order by started_at",
        (day, channel_id),
    ).fetchall()


def _full(network: Network, day: date, channel_index: int) -> int:
    return min(10, network.uploads(network.channels[channel_index], day_end(day)))


def test_channel_without_uploads_playlist_is_skipped_and_the_others_land(land, pg_admin, request):
    start, run = land
    network = Network(seed=_seed(request), channels=3, real_world={})
    a, b, c = (ch.channel_id for ch in network.channels)
    sim = start(network)
    # B's uploads playlist does not exist yet (YouTube's answer before a first upload)
    sim.inject(Fault(404, "playlistNotFound", target=ids.uploads_playlist_id(b), times=99))

    report = run(sim)

    assert report.status == "complete"
    assert report.channel_issues[b].status == "no_uploads"
    assert "playlistNotFound" in report.channel_issues[b].reason
    assert set(report.channel_issues) == {b}
    assert _snapshots(pg_admin, "channel_snapshots", DAY, [a, b, c]) == {a: 1, b: 1, c: 1}
    assert _snapshots(pg_admin, "video_snapshots", DAY, [a, b, c]) == {
        a: _full(network, DAY, 0),
        c: _full(network, DAY, 2),
    }
    assert sim.ledger.used(DAY) == 1 + 3 + 1  # channels, three playlists, one videos.list
    # a re-run of the day converges: nothing to do, nothing spent
    again = run(sim)
    assert again.status == "nothing-to-do"
    assert sim.ledger.used(DAY) == 5


def test_channel_with_video_count_zero_costs_no_playlist_call(land, pg_admin, request):
    start, run = land
    network = Network(seed=_seed(request), channels=3, real_world={1: RealWorld(no_uploads=True)})
    a, b, c = (ch.channel_id for ch in network.channels)
    sim = start(network)

    report = run(sim)

    assert report.status == "complete"
    assert {k: (v.status, v.reason) for k, v in report.channel_issues.items()} == {
        b: ("no_uploads", "videoCount is 0")
    }
    assert sim.ledger.calls("playlistItems.list") == 2
    assert _snapshots(pg_admin, "video_snapshots", DAY, [a, b, c]) == {
        a: _full(network, DAY, 0),
        c: _full(network, DAY, 2),
    }


def test_terminated_channel_is_recorded_then_no_longer_asked_for(land, pg_admin, request):
    start, run = land
    day2, day3 = DAY + timedelta(days=1), DAY + timedelta(days=2)
    network = Network(
        seed=_seed(request), channels=3, real_world={1: RealWorld(terminated_on=day2)}
    )
    a, b, c = (ch.channel_id for ch in network.channels)
    sim = start(network)
    assert run(sim).status == "complete"
    used = sim.ledger.used()

    report = run(sim, day2)

    assert report.status == "complete"
    assert report.channel_issues[b].status == "not_found"
    assert _snapshots(pg_admin, "channel_snapshots", day2, [a, b, c]) == {a: 1, c: 1}
    assert _snapshots(pg_admin, "video_snapshots", day2, [a, b, c]) == {
        a: _full(network, day2, 0),
        c: _full(network, day2, 2),
    }
    # its stored uploads playlist and its videos were not asked for
    assert sim.ledger.used() - used == 1 + 2 + 1
    assert run(sim, day2).status == "nothing-to-do"  # the day converges

    # day 3: B is not even in channels.list (a fault aimed at it would be consumed)
    sim.inject(Fault(500, target=b, method="channels.list", times=1))
    day3_report = run(sim, day3)
    assert day3_report.status == "complete"
    assert day3_report.channel_issues[b].status == "gone"
    assert [f.target for f in sim.faults] == [b]
    assert _snapshots(pg_admin, "channel_snapshots", day3, [a, b, c]) == {a: 1, c: 1}


@pytest.mark.parametrize(
    ("status", "reason", "times", "extra_units"),
    [
        (403, "playlistItemsNotAccessible", 1, 0),  # a private playlist: not retried
        (403, "forbidden", 1, 0),
        (503, "backendError", 5, 4),  # outlasts the 5 attempts: 4 extra units
    ],
)
def test_one_failing_playlist_costs_only_its_share(
    land, pg_admin, request, status, reason, times, extra_units
):
    start, run = land
    network = Network(seed=_seed(request), channels=3, real_world={})
    a, b, c = (ch.channel_id for ch in network.channels)
    sim = start(network)
    sim.inject(Fault(status, reason, target=ids.uploads_playlist_id(b), times=times))

    report = run(sim)

    assert report.status == "partial"
    assert report.channel_issues[b].status == "failed"
    assert reason in report.channel_issues[b].reason
    assert b in (report.error or "")
    assert set(report.channel_issues) == {b}
    # B's known videos: none yet; A and C in full
    assert _snapshots(pg_admin, "video_snapshots", DAY, [a, b, c]) == {
        a: _full(network, DAY, 0),
        c: _full(network, DAY, 2),
    }
    assert sim.ledger.used(DAY) == 1 + 3 + 1 + extra_units
    (status_row,) = _run_record(pg_admin, DAY, b)
    assert status_row[:2] == ("partial", 1)
    assert status_row[2][b]["status"] == "failed"

    # the re-run asks only for what B lacks (its snapshot landed): 1 playlist, 1 videos.list
    again = run(sim)
    assert again.status == "complete"
    assert sim.ledger.used(DAY) == 1 + 3 + 1 + extra_units + 2
    assert _snapshots(pg_admin, "video_snapshots", DAY, [b]) == {b: _full(network, DAY, 1)}


def test_malformed_playlist_item_is_set_aside_and_the_rest_of_its_page_lands(
    land, pg_admin, request
):
    start, run = land
    network = Network(seed=_seed(request), channels=3, real_world={})
    a, b, c = (ch.channel_id for ch in network.channels)
    sim = start(network)
    sim.inject(Fault(200, MALFORMED, target=ids.uploads_playlist_id(b)))

    report = run(sim)

    assert report.status == "complete"
    assert report.items_rejected == 1
    assert report.channel_issues[b].status == "items_rejected"
    # B's refresh set is its ten newest good uploads
    assert _snapshots(pg_admin, "video_snapshots", DAY, [a, b, c]) == {
        a: _full(network, DAY, 0),
        b: _full(network, DAY, 1),
        c: _full(network, DAY, 2),
    }
    assert run(sim).status == "nothing-to-do"  # the cursor moved: B is done for the day


def test_malformed_video_item_fails_its_channel_only(land, pg_admin, request):
    start, run = land
    network = Network(seed=_seed(request), channels=3, real_world={})
    chans = [ch.channel_id for ch in network.channels]
    sim = start(network)
    sim.inject(Fault(200, MALFORMED, method="videos.list"))  # the first video of the call

    report = run(sim)

    assert report.status == "partial"
    (broken,) = report.channel_issues
    assert "malformed videos.list item" in report.channel_issues[broken].reason
    assert report.videos_collected == sum(_full(network, DAY, i) for i in range(3)) - 1
    again = run(sim)  # asks for the one video again
    assert again.status == "complete"
    assert again.videos_collected == 1
    assert sim.ledger.calls("videos.list") == 2
    assert sum(_snapshots(pg_admin, "video_snapshots", DAY, chans).values()) == sum(
        _full(network, DAY, i) for i in range(3)
    )


def test_api_down_stops_after_three_exhausted_calls(land, request):
    start, run = land
    network = Network(seed=_seed(request), channels=120, real_world={})
    sim = start(network)
    sim.inject(Fault(503, times=10_000))

    report = run(sim)

    assert report.status == "partial"
    assert "3 calls in a row failed after every retry" in (report.error or "")
    assert sim.ledger.used(DAY) == 3 * 5  # three channels.list blocks, five attempts each


def test_one_broken_channel_among_250_costs_no_extra_quota(land, pg_admin, request):
    start, run = land
    day2 = DAY + timedelta(days=1)
    broken = {17: RealWorld(no_uploads=True), 123: RealWorld(terminated_on=day2)}
    network = Network(seed=_seed(request), channels=250, real_world=broken)
    chans = [ch.channel_id for ch in network.channels]
    sim = start(network)

    first = run(sim)
    assert first.status == "complete"
    assert sim.ledger.used(DAY) <= 305
    assert set(first.channel_issues) == {chans[17]}

    report = run(sim, day2)

    assert report.status == "complete"
    assert {k: v.status for k, v in report.channel_issues.items()} == {
        chans[17]: "no_uploads",
        chans[123]: "not_found",
    }
    assert sim.ledger.used(day2) <= 305
    landed = _snapshots(pg_admin, "video_snapshots", day2, chans)
    healthy = [i for i in range(250) if i not in broken]
    assert landed == {chans[i]: _full(network, day2, i) for i in healthy}
    assert report.channels_collected == 249


def test_hidden_counters_and_broadcasts_land_as_null_not_zero(land, pg_admin, request):
    start, run = land
    traits = {
        0: RealWorld(hides_like_count=True, comments_disabled=True),
        1: RealWorld(broadcasts=True),
        2: RealWorld(very_short_share=1.0),
    }
    network = Network(seed=_seed(request), channels=3, real_world=traits)
    a, b, c = (ch.channel_id for ch in network.channels)
    sim = start(network)
    assert run(sim).status == "complete"

    hidden = pg_admin.execute(
        "select count(*), count(view_count), count(like_count), count(comment_count) "
        "from raw_youtube.video_snapshots where channel_id = %s",
        (a,),
    ).fetchone()
    assert hidden == (_full(network, DAY, 0), _full(network, DAY, 0), 0, 0)
    as_of = day_end(DAY)
    expected = {}
    for n in range(network.uploads(network.channels[1], as_of)):
        video = network.video(1, n)
        state = video.broadcast_content(as_of)
        expected[video.video_id] = (state, None if state != "none" else video.duration_seconds)
    streams = dict(
        (vid, (state, seconds))
        for vid, state, seconds in pg_admin.execute(
            "select video_id, live_broadcast_content, duration_seconds "
            "from raw_youtube.videos where channel_id = %s",
            (b,),
        ).fetchall()
    )
    assert streams == {v: expected[v] for v in streams}
    assert all(s is None or s > 3600 for _, s in streams.values())
    shorts = pg_admin.execute(
        "select min(duration_seconds), max(duration_seconds) from raw_youtube.videos "
        "where channel_id = %s",
        (c,),
    ).fetchone()
    assert 5 <= shorts[0] <= shorts[1] < 30


def test_tables_have_exactly_their_declared_columns_and_no_collision_warning(
    land, pg_admin, request, caplog
):
    from ingestion.youtube import COLUMNS

    start, run = land
    sim = start(Network(seed=_seed(request), channels=3, real_world={}))
    with caplog.at_level(logging.WARNING):
        run(sim)
    assert not [r for r in caplog.records if "collides" in r.getMessage()]
    for table, declared in COLUMNS.items():
        found = dict(
            pg_admin.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'raw_youtube' and table_name = %s "
                "and column_name not like '\\_dlt%%'",
                (table,),
            ).fetchall()
        )
        assert set(found) == set(declared), table
        for column, hint in declared.items():
            if hint["data_type"] == "timestamp":
                assert found[column] == "timestamp with time zone", (table, column)
    assert (
        pg_admin.execute(
            "select data_type from information_schema.columns where table_schema = "
            "'raw_youtube' and table_name = 'videos' and column_name = 'duration_seconds'"
        ).fetchone()[0]
        == "integer"
    )


def test_landing_drops_the_stray_finished_at_of_an_older_release(
    land, settings, pg_admin, tmp_path, request
):
    start, run = land
    network = Network(seed=_seed(request), channels=3, real_world={})
    sim = start(network)
    run(sim)
    # what an older release left: an always-NULL finished_at in four tables, and in
    # the pipeline's dlt schema (from which dlt would add it again)
    name = f"yt_{network.seed}"
    old = make_pipeline(settings, tmp_path, name)
    schema = old.schemas["youtube"]
    for table in ("channel_snapshots", "video_snapshots", "videos", "playlist_items"):
        pg_admin.execute(f"alter table raw_youtube.{table} add column finished_at timestamptz")
        schema.tables[table]["columns"]["finished_at"] = {
            "name": "finished_at",
            "data_type": "timestamp",
            "nullable": True,
        }
    old.schemas.save_schema(schema)
    stray = (
        "select count(*) from information_schema.columns where table_schema = 'raw_youtube' "
        "and column_name = 'finished_at' and table_name <> 'collection_runs'"
    )
    assert pg_admin.execute(stray).fetchone()[0] == 4

    run(sim, DAY + timedelta(days=1))

    assert pg_admin.execute(stray).fetchone()[0] == 0
    schema = make_pipeline(settings, tmp_path, name).schemas["youtube"]
    assert "finished_at" not in schema.tables["channel_snapshots"]["columns"]
