"""The warehouse's relations as PostgreSQL's catalog has them, and a watcher that polls it.

The suite's one way to check that a dbt command dropped nothing it did not
rebuild (dbt_project/README.md, "No build drops what it does not rebuild"):
:func:`catalog` takes a snapshot of every relation in the project's schemas
(kind, oid, view definition, privileges, comments, what its view rule reads,
row count) and :class:`CatalogWatcher` polls the relation names from another
connection while a command runs, recording every poll that misses one.

dbt's own transient names (``__dbt_tmp``, ``__dbt_backup``) and the project's
retired relations (``__dbt_retired_<run>``) are listed apart: they are not
what anyone reads by name.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import psycopg

from ytempire.clients import pg_connect
from ytempire.settings import Settings

# The schemas dbt builds (dbt_project.yml): models, seeds and the snapshot.
PROJECT_SCHEMAS = ("staging", "intermediate", "marts", "marts_internal", "seeds", "snapshots")
TRANSIENT = "__dbt_"
_RETIRED = re.compile(r"__dbt_retired_[0-9a-f]+\b")
# A pause between polls so the watcher leaves the two cores to the command it
# watches; the verdict rests on what the polls saw, never on this pause.
_PACE_S = 0.01
_KINDS = {"r": "table", "p": "table", "v": "view", "m": "materialized view"}

_RELATIONS = """
    select
        namespace.nspname || '.' || relation.relname as name,
        relation.oid::bigint as oid,
        relation.relkind::text as kind,
        case when relation.relkind in ('v', 'm') then pg_get_viewdef(relation.oid) end
            as definition,
        array(select unnest(coalesce(relation.relacl, '{}'))::text order by 1) as privileges,
        obj_description(relation.oid, 'pg_class') as comment,
        array(
            select attribute.attname || ': ' || col_description(relation.oid, attribute.attnum)
            from pg_attribute as attribute
            where
                attribute.attrelid = relation.oid
                and attribute.attnum > 0
                and not attribute.attisdropped
                and col_description(relation.oid, attribute.attnum) is not null
            order by attribute.attnum
        ) as column_comments,
        array(
            select distinct read_namespace.nspname || '.' || read.relname
            from pg_rewrite as view_rule
            inner join pg_depend as dependency
                on
                    dependency.classid = 'pg_rewrite'::regclass
                    and dependency.objid = view_rule.oid
                    and dependency.refclassid = 'pg_class'::regclass
            inner join pg_class as read on dependency.refobjid = read.oid
            inner join pg_namespace as read_namespace on read.relnamespace = read_namespace.oid
            where view_rule.ev_class = relation.oid and read.oid <> relation.oid
            order by 1
        ) as reads
    from pg_class as relation
    inner join pg_namespace as namespace on relation.relnamespace = namespace.oid
    where namespace.nspname = any(%(schemas)s) and relation.relkind in ('r', 'p', 'v', 'm')
"""

_NAMES = """
    select namespace.nspname || '.' || relation.relname, relation.oid::bigint
    from pg_class as relation
    inner join pg_namespace as namespace on relation.relnamespace = namespace.oid
    where
        namespace.nspname = any(%(schemas)s)
        and relation.relkind in ('r', 'p', 'v', 'm')
        and strpos(relation.relname, '__dbt_') = 0
"""


@dataclass(frozen=True)
class Relation:
    """One relation as the catalog has it; ``rows`` is its count(*) (read as a superuser)."""

    name: str  # schema.relation
    oid: int
    kind: str  # table, view or materialized view
    definition: str | None  # pg_get_viewdef of a view or materialized view
    privileges: tuple[str, ...]  # aclitems, e.g. analyst=r/ytempire_transformer
    comment: str | None
    column_comments: tuple[str, ...]  # "column: comment"
    reads: tuple[str, ...]  # the relations its view rule reads, by their current names
    rows: int

    @property
    def is_transient(self) -> bool:
        """A dbt __dbt_tmp/__dbt_backup or a retired relation, not a name anyone reads."""
        return TRANSIENT in self.name

    @property
    def is_retired(self) -> bool:
        return _RETIRED.search(self.name) is not None

    def reads_by_model(self) -> tuple[str, ...]:
        """``reads`` with retired names read as the relation they were retired from."""
        return tuple(sorted({_RETIRED.sub("", name) for name in self.reads}))

    def definition_by_model(self) -> str | None:
        """``definition`` with retired names read as the relation they were retired from.

        A materialized view kept on a retired relation deparses with its new name.
        """
        return None if self.definition is None else _RETIRED.sub("", self.definition)


def catalog(settings: Settings) -> dict[str, Relation]:
    """Every relation of the project's schemas (transient ones included), by name."""
    with pg_connect("admin", settings=settings, autocommit=True) as conn:
        rows = conn.execute(_RELATIONS, {"schemas": list(PROJECT_SCHEMAS)}).fetchall()
        relations: dict[str, Relation] = {}
        for name, oid, kind, definition, privileges, comment, column_comments, reads in rows:
            schema, relation = name.split(".", 1)
            count = conn.execute(
                psycopg.sql.SQL("select count(*) from {}").format(
                    psycopg.sql.Identifier(schema, relation)
                )
            ).fetchone()
            relations[name] = Relation(
                name=name,
                oid=oid,
                kind=_KINDS[kind],
                definition=definition,
                privileges=tuple(privileges),
                comment=comment,
                column_comments=tuple(column_comments),
                reads=tuple(reads),
                rows=count[0] if count else 0,
            )
    return relations


def named(relations: dict[str, Relation]) -> dict[str, Relation]:
    """The relations readers use by name: no dbt transient and no retired ones."""
    return {name: r for name, r in relations.items() if not r.is_transient}


def unreadable_by(settings: Settings, role: str, names: Iterable[str]) -> dict[str, str]:
    """``select 1`` from each relation as ``role``: the ones that fail, with PostgreSQL's error."""
    failed: dict[str, str] = {}
    with pg_connect(role, settings=settings, autocommit=True) as conn:
        for name in names:
            schema, relation = name.split(".", 1)
            try:
                conn.execute(
                    psycopg.sql.SQL("select 1 from {} limit 1").format(
                        psycopg.sql.Identifier(schema, relation)
                    )
                )
            except psycopg.Error as exc:
                failed[name] = str(exc).strip()
    return failed


class CatalogWatcher:
    """Polls the project's relation names from its own connection while a command runs.

    Use as a context manager around the command: entering returns once the
    first poll has been read (so the watch starts before the command), leaving
    takes a last poll after it. ``missing`` holds every poll that lacked one of
    ``expected`` (the names and what was absent); ``oids`` every oid seen per
    name, so a test can tell the watch spanned a rebuild (a swapped relation
    shows two). Verdicts rest on what the polls saw, never on timing.
    """

    def __init__(self, settings: Settings, expected: Iterable[str]) -> None:
        self.settings = settings
        self.expected = frozenset(expected)
        self.polls = 0
        self.missing: list[frozenset[str]] = []
        self.oids: dict[str, set[int]] = {}
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._first = threading.Event()
        self._thread = threading.Thread(target=self._run, name="catalog-watcher", daemon=True)

    def _poll(self, conn: psycopg.Connection[Any]) -> None:
        seen = dict(conn.execute(_NAMES, {"schemas": list(PROJECT_SCHEMAS)}).fetchall())
        for name, oid in seen.items():
            self.oids.setdefault(name, set()).add(oid)
        absent = self.expected - seen.keys()
        if absent:
            self.missing.append(frozenset(absent))
        self.polls += 1

    def _run(self) -> None:
        try:
            with pg_connect("admin", settings=self.settings, autocommit=True) as conn:
                while not self._stop.is_set():
                    self._poll(conn)
                    self._first.set()
                    self._stop.wait(_PACE_S)
                self._poll(conn)
        except BaseException as exc:  # reported by __exit__, never swallowed
            self.error = exc
        finally:
            self._first.set()

    def __enter__(self) -> CatalogWatcher:
        self._thread.start()
        self._first.wait()
        if self.error is not None:
            raise self.error
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        if self.error is not None and exc is None:
            raise self.error
