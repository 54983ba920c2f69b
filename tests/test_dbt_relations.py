"""No dbt command drops what it does not rebuild (issue 24, item 1).

dbt-postgres rebuilds a relation by swapping a new one in and dropping the old
one with CASCADE, which drops every view built on it: `dbt run -s
stg_ytempire__channels` used to leave `intermediate` without its views. Here a
small network is built once; then, for one model of each kind (staging,
intermediate and marts views, a table, an incremental model run normally and
with --full-refresh, a materialized view, the seed and the snapshot), `dbt run
-s`/`dbt build -s`/`dbt seed`/`dbt snapshot` must leave every other relation as
it was: same object (oid), kind, definition, privileges, comments and rows,
readable by the transformer and the analyst's public marts by the analyst. A
plain view never ends up reading a retired copy (stale rows); a materialized
view may, until its own build, and nothing else keeps a retired copy alive.

Then the whole project: every relation that a view reads rebuilt in one
invocation (every real edge of pg_depend at once, on two threads), a full
refresh with a catalog watcher polling throughout, a build whose test fails
midway, the plain `dbt` command line watched, and staging columns changed under
their readers in a copy of the project: a reader that no longer fits fails the
build loudly, by name, and nothing changes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from simulation.raw_history import NetworkSpec, land_days
from tests.catalog import CatalogWatcher, Relation, catalog, named, unreadable_by
from tests.conftest import own_database
from ytempire.clients import pg_connect
from ytempire.dbt_runner import DBT_PROJECT_DIR, run_dbt
from ytempire.errors import YTEmpireError
from ytempire.settings import Settings

pytestmark = pytest.mark.services

SPEC = NetworkSpec(channels=3, videos_per_channel_per_day=1)
DBT = Path(sys.executable).with_name("dbt")  # the command a data engineer types

# (command, the relations it rebuilds): one model of each kind, by plain dbt commands.
REBUILDS = {
    "staging view": (("run", "-s", "stg_ytempire__channels"), {"staging.stg_ytempire__channels"}),
    "staging view, built": (
        ("build", "-s", "stg_youtube__channel_snapshots"),
        {"staging.stg_youtube__channel_snapshots"},
    ),
    "intermediate view": (
        ("run", "-s", "int_channels_cpm_resolved"),
        {"intermediate.int_channels_cpm_resolved"},
    ),
    "intermediate view, built": (
        ("build", "-s", "int_channels_joined"),
        {"intermediate.int_channels_joined"},
    ),
    "marts view read by a view": (
        ("run", "-s", "fct_collection_status"),
        {"marts.fct_collection_status"},
    ),
    "table": (("run", "-s", "dim_channels"), {"marts.dim_channels"}),
    "table, built": (("build", "-s", "dim_channels"), {"marts.dim_channels"}),
    "incremental": (
        ("run", "-s", "int_collection_days_counted"),
        {"intermediate.int_collection_days_counted"},
    ),
    "incremental, full refresh": (
        ("run", "--full-refresh", "-s", "int_collection_days_counted"),
        {"intermediate.int_collection_days_counted"},
    ),
    "incremental read by materialized views, full refresh": (
        ("run", "--full-refresh", "-s", "fct_video_daily_metrics"),
        {"marts.fct_video_daily_metrics"},
    ),
    "incremental, full refresh, built": (
        ("build", "--full-refresh", "-s", "int_collection_days_counted"),
        {"intermediate.int_collection_days_counted"},
    ),
    "materialized view": (("run", "-s", "mv_video_analytics"), {"marts.mv_video_analytics"}),
    "materialized view, built": (
        ("build", "-s", "mv_channel_performance"),
        {"marts.mv_channel_performance"},
    ),
    "seed": (("seed", "-s", "channel_cpm_overrides"), {"seeds.channel_cpm_overrides"}),
    "seed, full refresh": (
        ("seed", "--full-refresh", "-s", "channel_cpm_overrides"),
        {"seeds.channel_cpm_overrides"},
    ),
    "seed, full refresh, built": (
        ("build", "--full-refresh", "-s", "channel_cpm_overrides"),
        {"seeds.channel_cpm_overrides"},
    ),
    "snapshot": (("snapshot", "-s", "snap_channels"), {"snapshots.snap_channels"}),
    "snapshot, built": (("build", "-s", "snap_channels"), {"snapshots.snap_channels"}),
}


@pytest.fixture(scope="module")
def warehouse(test_database: str) -> Iterator[Settings]:
    """A database of the module's own with a small network built: three days, one build.

    Asks for the session's database first: built later, it would read the
    settings while this fixture points them at its own database, and drop it.
    """
    with own_database("relations") as settings:
        with pg_connect("loader", settings=settings) as conn:
            land_days(conn, SPEC, 0, 2)
        run_dbt("build", quiet=True)
        yield settings


def _what_it_is(relation: Relation) -> tuple[Any, ...]:
    """What a reader of the relation sees, whichever object holds the name."""
    return (
        relation.kind,
        relation.definition_by_model(),
        relation.privileges,
        relation.comment,
        relation.column_comments,
        relation.reads_by_model(),
        relation.rows,
    )


def assert_nothing_lost(
    settings: Settings,
    before: dict[str, Relation],
    after: dict[str, Relation],
    rebuilt: set[str] | None,
) -> None:
    """Every relation is still there, as it was, and readable; only ``rebuilt`` are new objects.

    ``rebuilt`` None: any relation may be a new object (a whole-project build).
    """
    was, now = named(before), named(after)
    assert sorted(now) == sorted(was), "relations missing or added"
    changed = {name: (_what_it_is(was[name]), _what_it_is(now[name])) for name in was}
    assert {name: pair for name, pair in changed.items() if pair[0] != pair[1]} == {}
    if rebuilt is not None:
        assert rebuilt <= set(was)
        replaced = {name for name in was if was[name].oid != now[name].oid}
        assert replaced <= rebuilt, "a relation the command does not build was replaced"
    assert unreadable_by(settings, "transformer", now) == {}
    public = [
        name for name, r in now.items() if any(p.startswith("analyst=") for p in r.privileges)
    ]
    assert len(public) >= 3  # the analyst's marts, materialized views included
    assert unreadable_by(settings, "analyst", public) == {}
    assert_no_stale_readers(after)


def assert_no_stale_readers(relations: dict[str, Relation]) -> None:
    """Plain views read current relations; a retired copy is kept only for a materialized view."""
    stale = {
        r.name: r.reads
        for r in relations.values()
        if r.kind == "view" and not r.is_transient and any("__dbt_" in name for name in r.reads)
    }
    assert stale == {}, "a plain view reads a retired relation: it would serve stale rows"
    for relation in relations.values():
        if relation.is_transient:
            readers = [r for r in relations.values() if relation.name in r.reads]
            assert relation.is_retired, f"dbt's transient {relation.name} was left behind"
            assert readers, f"{relation.name} is retired, unread, and was not dropped"
            assert all(r.kind == "materialized view" or r.is_transient for r in readers)


@pytest.mark.parametrize("kind", REBUILDS)
def test_rebuilding_one_model_leaves_every_other_relation_as_it_was(
    warehouse: Settings, kind: str
) -> None:
    command, rebuilt = REBUILDS[kind]
    before = catalog(warehouse)
    run_dbt(command[0], *command[1:], quiet=True)
    assert_nothing_lost(warehouse, before, catalog(warehouse), rebuilt)


def _edges(relations: dict[str, Relation]) -> dict[str, set[str]]:
    """Each project relation that a view or materialized view reads, with its readers."""
    readers: dict[str, set[str]] = {}
    for relation in named(relations).values():
        for read in relation.reads_by_model():
            if read in relations:
                readers.setdefault(read, set()).add(relation.name)
    return readers


def test_every_relation_a_view_reads_rebuilt_at_once_leaves_its_readers(
    warehouse: Settings,
) -> None:
    """Every real edge in pg_depend, exercised in one invocation on two threads."""
    before = catalog(warehouse)
    edges = _edges(before)
    kinds = {
        (before[parent].kind, before[reader].kind) for parent in edges for reader in edges[parent]
    }
    # The project's kinds of edge: a test that found fewer would prove less than it says.
    assert {
        ("view", "view"),
        ("table", "view"),
        ("table", "materialized view"),
        ("materialized view", "materialized view"),  # the niche rollup of the channel grain
    } <= kinds
    assert "seeds.channel_cpm_overrides" in edges
    models = sorted(name.split(".", 1)[1] for name in edges)
    run_dbt("build", "--full-refresh", "-s", *models, quiet=True)
    assert_nothing_lost(warehouse, before, catalog(warehouse), set(edges))


def test_a_full_refresh_of_the_project_never_leaves_a_relation_missing(
    warehouse: Settings,
) -> None:
    before = catalog(warehouse)
    with CatalogWatcher(warehouse, named(before)) as watcher:
        run_dbt("run", "--full-refresh", quiet=True)
    assert watcher.missing == []
    assert len(watcher.oids["marts.dim_channels"]) == 2  # the watch spanned the rebuild
    after = catalog(warehouse)
    assert_nothing_lost(warehouse, before, after, None)
    assert [r.name for r in after.values() if r.is_transient] == []  # every view rebuilt


BAD_VIDEO = "not a valid id"


def test_a_build_whose_test_fails_midway_leaves_every_relation_readable(
    warehouse: Settings,
) -> None:
    """A staging test fails: what is downstream is skipped, and stays as it was."""
    good = catalog(warehouse)
    with pg_connect("loader", settings=warehouse) as conn:
        conn.execute(  # an id stg_youtube__videos' test rejects
            "insert into raw_youtube.videos (video_id, channel_id, first_seen_date, "
            "_dlt_load_id, _dlt_id) select %s, channel_id, first_seen_date, _dlt_load_id, "
            "'bad' from raw_youtube.videos limit 1",
            (BAD_VIDEO,),
        )
        conn.commit()
    before = catalog(warehouse)  # the staging views read the bad row already
    try:
        with (
            CatalogWatcher(warehouse, named(before)) as watcher,
            pytest.raises(YTEmpireError, match="failed"),
        ):
            run_dbt("build", "--full-refresh", quiet=True)
        assert watcher.missing == []
        after = catalog(warehouse)
        # The skipped analyst views kept their rows; a rebuilt fact's readers are current.
        assert all(after[f"marts.{view}"].rows for view in ("mv_video_analytics",))
        assert_nothing_lost(warehouse, before, after, None)
    finally:
        with pg_connect("loader", settings=warehouse) as conn:
            conn.execute("delete from raw_youtube.videos where video_id = %s", (BAD_VIDEO,))
            conn.commit()
    run_dbt("build", quiet=True)
    healed = catalog(warehouse)
    assert_nothing_lost(warehouse, good, healed, None)
    assert [r.name for r in healed.values() if r.is_transient] == []


def _dbt_cli(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``cd <project> && dbt <args>``: the command line, profiles.yml found in the folder."""
    return subprocess.run(
        [str(DBT), *args], cwd=project, capture_output=True, text=True, check=False
    )


def test_a_reader_of_the_catalog_never_misses_a_relation_while_dbt_runs_one_model(
    warehouse: Settings,
) -> None:
    before = catalog(warehouse)
    with CatalogWatcher(warehouse, named(before)) as watcher:
        done = _dbt_cli(DBT_PROJECT_DIR, "run", "-s", "stg_ytempire__channels")
    assert done.returncode == 0, done.stdout[-3000:]
    assert watcher.missing == []
    assert len(watcher.oids["staging.stg_ytempire__channels"]) == 2  # it saw the swap
    assert_nothing_lost(warehouse, before, catalog(warehouse), {"staging.stg_ytempire__channels"})


# --- staging columns changed under their readers, in a copy of the project ---

STAGING = "models/staging/ytempire/stg_ytempire__channels.sql"
# The project's views on the staging model (each reads its niche); the test below keeps the
# list whole, since a reader left out would be neither named nor rebuilt by these tests.
READERS = ("int_channels_joined", "int_channels_cpm_calibrated", "int_channels_cpm_resolved")


@pytest.fixture(scope="module")
def project_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of dbt_project/ whose models a test may edit (its own target/ and logs/)."""
    copy = tmp_path_factory.mktemp("relations") / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, copy, ignore=shutil.ignore_patterns("target", "logs"))
    return copy


@pytest.fixture
def edit(project_copy: Path, warehouse: Settings) -> Iterator[Any]:
    """edit(path, old, new) in the copy; afterwards copy and warehouse are the repo's again."""
    edited: list[str] = []

    def replace(path: str, old: str, new: str) -> None:
        file = project_copy / path
        text = file.read_text()
        assert old in text, f"{old!r} is not in {path}"
        file.write_text(text.replace(old, new))
        edited.append(path)

    yield replace
    for path in edited:
        shutil.copy(DBT_PROJECT_DIR / path, project_copy / path)
    if edited:
        run_dbt("run", "-s", "stg_ytempire__channels", *READERS, quiet=True)


ADHOC = "marts.adhoc_channel_niches"


@pytest.fixture
def adhoc_view(warehouse: Settings) -> Iterator[str]:
    """A view no model owns (a data engineer's own, in marts) reading the staging view's niche."""
    with pg_connect("transformer", settings=warehouse) as conn:
        conn.execute(
            f"create view {ADHOC} as select channel_id, niche from staging.stg_ytempire__channels"
        )
        conn.commit()
    yield ADHOC
    with pg_connect("transformer", settings=warehouse) as conn:
        conn.execute(f"drop view if exists {ADHOC}")
        conn.commit()


def _dbt_in(project: Path, *args: str) -> tuple[bool, str]:
    """dbt in-process on ``project`` (what the command line runs); success and node messages."""
    from dbt.cli.main import dbtRunner

    folder, target = str(project), str(project / "target")  # its own target, not the session's
    result = dbtRunner().invoke(
        [
            *args,
            *("--project-dir", folder, "--profiles-dir", folder, "--target-path", target),
            *("--log-level", "warn"),
        ]
    )
    messages = [str(r.message) for r in getattr(result.result, "results", None) or []]
    return result.success, "\n".join([*messages, str(result.exception or "")])


def test_the_readers_are_every_view_built_on_the_staging_model(warehouse: Settings) -> None:
    with pg_connect("transformer", settings=warehouse) as conn:
        views = conn.execute(
            """
            select distinct view.relnamespace::regnamespace::text || '.' || view.relname
            from pg_depend as dep
            inner join pg_rewrite as rule on rule.oid = dep.objid
            inner join pg_class as view on view.oid = rule.ev_class
            where dep.refobjid = 'staging.stg_ytempire__channels'::regclass
                and view.oid <> dep.refobjid
            """
        ).fetchall()
    assert sorted(v for (v,) in views) == sorted(f"intermediate.{r}" for r in READERS)


def test_a_reader_that_no_longer_fits_fails_the_build_by_name_and_nothing_changes(
    warehouse: Settings, project_copy: Path, edit: Any, adhoc_view: str
) -> None:
    before = catalog(warehouse)
    edit(
        STAGING,
        "coalesce(niche, 'unknown') as niche",
        "coalesce(niche, 'unknown') as channel_niche",
    )
    ok, output = _dbt_in(project_copy, "run", "-s", "stg_ytempire__channels")
    assert not ok, "dbt succeeded where it had to refuse"
    for reader in READERS:  # both read niche, as does the view no model owns
        assert f"intermediate.{reader} (column" in output
    assert f"{adhoc_view} (column" in output
    assert f"fix or drop {adhoc_view} (not models of this project)" in output
    assert f"dbt run -s stg_ytempire__channels {' '.join(sorted(READERS))}" in output
    assert catalog(warehouse) == before  # the old view is still the one in place


def test_a_reader_whose_columns_would_change_type_fails_the_build_by_name(
    warehouse: Settings, project_copy: Path, edit: Any
) -> None:
    before = catalog(warehouse)
    edit(STAGING, "status as channel_status", "status::varchar(20) as channel_status")
    ok, output = _dbt_in(project_copy, "run", "-s", "stg_ytempire__channels")
    assert not ok, "dbt succeeded where it had to refuse"
    assert "intermediate.int_channels_joined (cannot change data type" in output
    assert "int_channels_cpm_resolved" not in output  # does not read channel_status
    assert catalog(warehouse) == before


def test_a_column_added_or_one_no_reader_uses_removed_keeps_the_readers(
    warehouse: Settings, project_copy: Path, edit: Any, adhoc_view: str
) -> None:
    before = catalog(warehouse)
    edit(
        STAGING,
        "        updated_at\n    from source",
        "        'added' as added_column\n    from source",
    )
    ok, output = _dbt_in(project_copy, "run", "-s", "stg_ytempire__channels")
    assert ok, output
    after = catalog(warehouse)
    for name in (*(f"intermediate.{reader}" for reader in READERS), adhoc_view):
        assert _what_it_is(after[name]) == _what_it_is(before[name])
        assert after[name].oid == before[name].oid
    assert "staging.stg_ytempire__channels" in after[adhoc_view].reads
    assert_no_stale_readers(after)


def test_a_reader_built_in_the_same_run_follows_the_renamed_column(
    warehouse: Settings, project_copy: Path, edit: Any
) -> None:
    before = catalog(warehouse)
    edit(
        STAGING,
        "coalesce(niche, 'unknown') as niche",
        "coalesce(niche, 'unknown') as channel_niche",
    )
    edit(
        "models/intermediate/metrics/int_channels_joined.sql",
        "        niche,\n        channel_status\n",
        "        channel_niche as niche,\n        channel_status\n",
    )
    edit(
        "models/intermediate/metrics/int_channels_cpm_resolved.sql",
        "        channel_id,\n        niche\n",
        "        channel_id,\n        channel_niche as niche\n",
    )
    edit(
        "models/intermediate/metrics/int_channels_cpm_calibrated.sql",
        "        niche\n    from {{ ref('stg_ytempire__channels') }}",
        "        channel_niche as niche\n    from {{ ref('stg_ytempire__channels') }}",
    )
    ok, output = _dbt_in(project_copy, "run", "-s", "stg_ytempire__channels", *READERS)
    assert ok, output
    after = catalog(warehouse)
    assert sorted(named(after)) == sorted(named(before))
    # The old staging view, kept for its readers until their builds, was freed.
    assert {r.name for r in after.values() if r.is_transient} <= set(before)
    assert_no_stale_readers(after)
