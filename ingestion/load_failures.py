"""A dlt pipeline step that failed, as the error the operator reads.

dlt raises ``PipelineStepFailed`` around whatever went wrong: a source's own
error, a load job that failed for good, a load job it retried until its limit
(``load.raise_on_max_retries``, 5 by default) on a transient failure -- a
PostgreSQL session ended under it, a lock or statement timeout -- or the same
transient failure outside a job, which dlt does not retry: reading the
destination's state (the ``sync`` step), migrating the schema, or recording the
finished package in ``_dlt_loads``. The transient kinds lose nothing (dlt keeps
the package in the pipeline's folder and loads it before anything new on the
next run), but their text is dlt's, with a traceback and a ``dlt pipeline``
command to run. :func:`load_failed` names the package, its table or step and
the error, and says what to run next, for every lander; :func:`finish_pending`
loads what a stopped or killed run kept, before a lander plans new work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NoReturn

import dlt
import psycopg2
from dlt.load.exceptions import LoadClientJobRetry
from dlt.pipeline.exceptions import PipelineStepFailed

from ytempire.errors import YTEmpireError
from ytempire.redaction import redact_text
from ytempire.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lander:
    """A lander as its errors name it: the ``what`` load, run again by ``rerun``."""

    what: str  # e.g. "events": "the events load failed: ..."
    rerun: str  # the command that runs it, e.g. "ytempire ingest events"


class LoadRetriesExhausted(YTEmpireError):
    """A load job failed on every try dlt gave it; its package is kept for the next run.

    Exit status 2, as for a service that is down: the same command run again
    later (the database back, the lock released) lands the package first.
    """

    exit_code = 2

    def __init__(self, lander: Lander, retry: LoadClientJobRetry, settings: Settings):
        self.load_id = retry.load_id
        self.table = retry.job_id.split(".", 1)[0]  # a job is "<table>.<file id>.<format>"
        self.tries = retry.retry_count
        last = _last_try_error(retry)
        super().__init__(
            f"the {lander.what} load stopped at package {retry.load_id}: its job for table "
            f"{self.table} failed {retry.retry_count} times in a row, the last with: "
            f"{redact_text(last, settings)}. Nothing is lost: the package stays in the pipeline's "
            "folder and the next run loads it before anything new. Next: check that "
            f"PostgreSQL at {settings.pg_host}:{settings.pg_port} takes the loader's sessions "
            f"(`ytempire doctor`; or a lock held on table {self.table}), then run "
            f"`{lander.rerun}` again."
        )


class LoadInterrupted(YTEmpireError):
    """PostgreSQL failed a dlt step outside its load jobs in a way that may pass.

    The session ended, or a lock or statement timed out, while dlt read the
    destination's state, migrated the schema or recorded a finished package:
    dlt retries none of these. Exit status 2, as for a service that is down:
    a package stays in the pipeline's folder and the same command run again
    loads it first.
    """

    exit_code = 2

    def __init__(
        self,
        lander: Lander,
        step: PipelineStepFailed,
        error: psycopg2.OperationalError,
        settings: Settings,
    ):
        self.load_id: str | None = step.load_id
        self.step = step.step
        kept = (
            f"stopped at package {step.load_id} in dlt's {step.step} step"
            if step.load_id
            else f"stopped in dlt's {step.step} step, before loading anything"
        )
        after = (
            "the package stays in the pipeline's folder and the next run loads it before "
            "anything new"
            if step.load_id
            else "the next run starts where the last load ended"
        )
        super().__init__(
            f"the {lander.what} load {kept}: PostgreSQL failed it with "
            f"{redact_text(_one_line(_first(error)), settings)}. Nothing is lost: {after}. "
            f"Next: check that PostgreSQL at {settings.pg_host}:{settings.pg_port} takes the "
            "loader's sessions (`ytempire doctor`; or a lock held on one of the lander's "
            f"tables), then run `{lander.rerun}` again."
        )


def _first(error: BaseException) -> BaseException:
    """The first error of ``error``'s chain (causes, then contexts; a cycle ends it)."""
    seen = {id(error)}
    while (earlier := error.__cause__ or error.__context__) is not None and id(earlier) not in seen:
        seen.add(id(earlier))
        error = earlier
    return error


def _one_line(error: BaseException) -> str:
    return f"{type(error).__name__}: {' '.join(str(error).split())}"[:500].rstrip(".")


def _last_try_error(retry: LoadClientJobRetry) -> str:
    """The first error of the job's last try, in one line.

    dlt's own text is the last exception's traceback, and that is often the
    rollback after the real failure ("connection already closed" after "server
    closed the connection unexpectedly").
    """
    if retry.client_exception is None:
        text = str(retry.failed_message).strip().splitlines() or ["unknown"]
        return text[-1][:500]
    return _one_line(_first(retry.client_exception))


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: dlt's ``exception`` of a step, then causes and contexts."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        yield cause
        if isinstance(cause, PipelineStepFailed):
            cause = cause.exception
        else:
            cause = cause.__cause__ or cause.__context__


def known_failure(exc: BaseException, lander: Lander, settings: Settings) -> YTEmpireError | None:
    """What ``exc``, raised by a dlt step of ``lander``, is, if the project knows it.

    The project's own error inside dlt's wrapper (a source raised it) comes
    back as it is; a load job retried to dlt's limit is
    :class:`LoadRetriesExhausted` (exit 2), which names the package, its table,
    the tries, the last error and ``lander.rerun``, the command to run once
    PostgreSQL takes sessions again; PostgreSQL's ``OperationalError`` (the
    session ended, a lock or statement timed out) raised by the step itself,
    outside a job, is :class:`LoadInterrupted` (exit 2), which names the step
    and the package if there is one. Anything else is None: the caller's to
    raise as it is (a bug keeps its traceback) or to wrap (:func:`load_failed`).
    """
    chain = list(causes(exc))
    for cause in chain:
        if isinstance(cause, YTEmpireError):
            return cause
    for cause in chain:
        if isinstance(cause, LoadClientJobRetry):
            return LoadRetriesExhausted(lander, cause, settings)
    step = next((c for c in chain if isinstance(c, PipelineStepFailed)), None)
    lost = next((c for c in chain if isinstance(c, psycopg2.OperationalError)), None)
    if step is not None and lost is not None:
        return LoadInterrupted(lander, step, lost, settings)
    return None


def raise_known(exc: BaseException, lander: Lander, settings: Settings) -> NoReturn:
    """Raise :func:`known_failure` of ``exc`` (from ``exc``), or ``exc`` itself (a bug keeps
    its traceback)."""
    known = known_failure(exc, lander, settings)
    if known is None:
        raise exc
    raise known from exc


def load_failed(exc: BaseException, lander: Lander, settings: Settings) -> YTEmpireError:
    """:func:`known_failure`, or else a :class:`YTEmpireError` quoting dlt (exit 1)."""
    known = known_failure(exc, lander, settings)
    return known if known is not None else YTEmpireError(f"the {lander.what} load failed: {exc}")


def drop_committed_extracts(pipeline: dlt.Pipeline) -> None:
    """Delete extracted packages whose normalized package is already committed.

    dlt's normalize renames the finished package into ``load/normalized`` and
    then deletes its extracted copy ("do not kill this process" in between). A
    SIGKILL there leaves both; normalizing the copy again would collide with
    the committed package ("Directory not empty") on every later run. The
    committed package holds the same rows, so the copy goes. (dlt exposes no
    public call for this; ``_get_normalize_storage`` is its own accessor.)
    """
    committed = set(pipeline.list_normalized_load_packages())
    storage = pipeline._get_normalize_storage().extracted_packages
    for load_id in committed.intersection(pipeline.list_extracted_load_packages()):
        log.warning("dropping the extracted copy of committed load package %s", load_id)
        storage.delete_package(load_id)


def finish_pending(pipeline: dlt.Pipeline, lander: Lander, settings: Settings) -> int:
    """Load what a killed run left behind; return how many packages that was.

    A run killed while extracting leaves nothing (its package was never
    committed; the next run asks the API again). One killed while normalizing
    or loading leaves a package, which dlt loads before anything new, with the
    state (the cursors) it holds. An extracted package whose normalized copy
    is already committed (killed between dlt's rename and delete) is dropped,
    else normalizing it again fails on every later run
    (:func:`drop_committed_extracts`). A package that does not load says so as
    :func:`load_failed` words it for ``lander``.
    """
    drop_committed_extracts(pipeline)
    pending = len(pipeline.list_extracted_load_packages()) + len(
        pipeline.list_normalized_load_packages()
    )
    if pending:
        log.warning(
            "%s: loading %d package(s) a killed run left behind", pipeline.pipeline_name, pending
        )
        try:
            pipeline.normalize()
            pipeline.load().raise_on_failed_jobs()
        except Exception as exc:
            raise load_failed(exc, lander, settings) from exc
    return pending
