"""Console output of long commands: progress bars with rate and ETA, quiet library loggers.

Commands that handle thousands of items show a `rich`_ progress bar on the
terminal (stderr) while they work, then print one summary line of their own.
The bar is transient: in a terminal it disappears when the step ends, and
when output goes to a file or a pipe (CI, ``make demo > log``) it is not drawn
at all, so logs hold only the summary lines.

Library loggers (kafka-python, dlt, py4j, Google's API client, urllib3) log
at WARNING (kafka-python at ERROR) unless ``ytempire --verbose`` is given;
dlt's records are then one line each, without the traceback (``--verbose``
shows it): dlt logs every failed try of a load job it retries with the try's
traceback, ten of them before the command's own one-line error.

.. _rich: https://rich.readthedocs.io/en/stable/progress.html
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

# Loggers of the libraries the commands use; their INFO lines are connection chatter.
LIBRARY_LOGGERS = (
    "kafka",
    "confluent_kafka",
    "dlt",
    "py4j",
    "googleapiclient",
    "google_auth_httplib2",
    "urllib3",
    "httpx",
    "pyspark",
    "great_expectations",
    "airflow",
    "cosmos",
)

_stderr = Console(stderr=True)


class Advance(Protocol):
    """Move a progress bar: ``advance(n)`` adds ``n`` items, ``advance(done=k)`` sets the
    count reached; ``total=`` corrects the total."""

    def __call__(
        self, n: int = 1, *, done: int | None = None, total: int | None = None
    ) -> None: ...


class RateColumn(ProgressColumn):
    """Items per second, e.g. ``12,345 events/s`` (blank until rich has measured a speed)."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.0f} {self.unit}/s", style="cyan")


@contextmanager
def progress_bar(description: str, total: int | None, unit: str = "items") -> Iterator[Advance]:
    """A transient progress bar on stderr for ``total`` items (``None``: unknown total).

    Yields a function that advances it. Nothing is drawn when stderr is not a
    terminal.
    """
    bar = Progress(
        TextColumn("  {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(unit),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=_stderr,
        transient=True,
        disable=not _stderr.is_terminal,
    )
    with bar:
        task = bar.add_task(description, total=total)

        def advance(n: int = 1, *, done: int | None = None, total: int | None = None) -> None:
            if done is not None:
                bar.update(task, completed=done, total=total)
            else:
                if total is not None:
                    bar.update(task, total=total)
                bar.advance(task, n)

        yield advance


_TRACEBACK = "Traceback (most recent call last):"


class _OneLine(logging.Filter):
    """A record as its first line, without a traceback (in its text or ``exc_info``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        first = text.split("\n", 1)[0]
        if _TRACEBACK in first:  # dlt: "Job for ... retried ... with message Traceback ..."
            first = first.split(_TRACEBACK, 1)[0].rstrip()
        if first != text or record.exc_info or record.exc_text:
            first += " (traceback with `ytempire -v`)"
        record.msg, record.args = first, None
        record.exc_info, record.exc_text = None, None
        return True


_ONE_LINE = _OneLine()


def configure_logging(verbose: bool = False) -> None:
    """Every logger at WARNING; with ``verbose``, ours and the libraries' at INFO.

    Without ``verbose``, dlt's records are one line each (no traceback).

    Every record is redacted (:func:`ytempire.redaction.install_log_redaction`):
    a library logging a URL with its password prints ``***`` in its place.
    """
    from ytempire.redaction import install_log_redaction

    install_log_redaction()
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="[ytempire %(asctime)s] %(message)s",
        datefmt="%H:%M:%S",
        force=True,
    )
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
    dlt_logger = logging.getLogger("dlt")  # dlt keeps the logger's filters when it sets it up
    dlt_logger.removeFilter(_ONE_LINE)
    if not verbose:
        dlt_logger.addFilter(_ONE_LINE)
        # kafka-python warns of routine states ("No partition metadata for topic"
        # while a consumer joins); its real failures surface as exceptions.
        logging.getLogger("kafka").setLevel(logging.ERROR)
        # librdkafka logs each failed reconnect at error level; the processor's failed
        # deliveries surface as SideMessageError, naming what to do.
        logging.getLogger("confluent_kafka").setLevel(logging.CRITICAL)
