"""What every bench shares: the figures table, the load average, the smoke flag, its topics.

A bench measures its figures and, in the same run, a ceiling (the same work
with the part under test taken out, e.g. Kafka read and dropped) or a peer (what
a user would pick instead). :class:`Figures` prints each figure beside it with
their ratio, and the load average (``/proc/loadavg``: 1, 5 and 15 minutes) at
the start and the end of the run, since on a shared machine a figure means
little without it.

``--smoke`` (:func:`add_smoke_flag`) runs a bench at a tiny scale through its
whole path and its own checks, in seconds; ``tests/test_bench_smoke.py`` runs
every bench that way, so a change that breaks a bench fails the suite. Smoke
figures are printed like the real ones and mean nothing.

Imported by the bench scripts as ``benchlib`` (``bench/`` is on ``sys.path``
when a script in it runs).
"""

from __future__ import annotations

import argparse
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SMOKE_BANNER = "SMOKE RUN: tiny scale, the figures below mean nothing"


def loadavg() -> tuple[float, float, float]:
    """The 1-, 5- and 15-minute load averages (``/proc/loadavg``)."""
    one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
    return float(one), float(five), float(fifteen)


def format_load(load: tuple[float, float, float]) -> str:
    return " ".join(f"{x:.2f}" for x in load)


def add_smoke_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="Tiny scale through the whole path and its checks, in seconds (the test suite "
        "runs this; the figures mean nothing).",
    )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now (for a server the bench starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def kafka_topics(partitions: dict[str, int], settings: Any = None) -> Iterator[list[str]]:
    """Create the topics ``partitions`` names (name -> partition count, replication 1), wait
    until the cluster serves them and yield their names; delete those of them that exist
    afterwards, however the block (or the creation itself) ended, so a failing bench leaves
    no topics behind."""
    from kafka.admin import NewTopic

    from ytempire.clients import kafka_admin

    names = list(partitions)
    admin = kafka_admin(settings=settings)
    try:
        admin.create_topics([NewTopic(name, n, 1) for name, n in partitions.items()])
        admin.wait_for_topics(names)
        yield names
    finally:
        try:
            existing = set(admin.list_topics())
            if made := [name for name in names if name in existing]:
                admin.delete_topics(made)
        finally:
            admin.close()


def peak_rss_mib(pid: int | str = "self") -> float:
    """Peak resident memory of a live process (``VmHWM`` of ``/proc/<pid>/status``), MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    (line,) = (line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


@dataclass
class Row:
    figure: str
    value: float
    unit: str
    against: str
    against_value: float
    digits: int


@dataclass
class Figures:
    """A bench's figures, each beside its ceiling or peer, and the load around the run.

    Create it first thing (it reads the load average at the start), :meth:`add`
    each figure as it is measured, and :meth:`print` at the end.
    """

    title: str
    smoke: bool = False
    load_start: tuple[float, float, float] = field(default_factory=loadavg)
    rows: list[Row] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.smoke:
            print(SMOKE_BANNER, flush=True)
        print(f"load average at start: {format_load(self.load_start)}", flush=True)

    def add(
        self,
        figure: str,
        value: float,
        unit: str,
        against: str,
        against_value: float,
        *,
        digits: int = 0,
    ) -> None:
        """``figure`` (``value`` ``unit``) beside ``against`` (its ceiling or peer)."""
        self.rows.append(Row(figure, value, unit, against, against_value, digits))

    def print(self) -> None:
        end = loadavg()
        print(f"\n== {self.title}: figures beside their ceiling or peer (same run) ==")
        width = max((len(r.figure) for r in self.rows), default=10)
        against_width = max((len(r.against) for r in self.rows), default=10)
        print(
            f"{'figure':<{width}}  {'value':>14}  {'ceiling or peer':<{against_width}}  "
            f"{'value':>14}  {'ratio':>9}"
        )
        for r in self.rows:
            value = f"{r.value:,.{r.digits}f} {r.unit}"
            against = f"{r.against_value:,.{r.digits}f} {r.unit}"
            print(
                f"{r.figure:<{width}}  {value:>14}  {r.against:<{against_width}}  "
                f"{against:>14}  {ratio(r.value, r.against_value):>9}"
            )
        print(
            f"load average (1/5/15 min): start {format_load(self.load_start)}, "
            f"end {format_load(end)}"
        )
        if self.smoke:
            print(SMOKE_BANNER)


def ratio(value: float, against: float) -> str:
    """``value / against`` as a percentage (``-`` when ``against`` is zero)."""
    if not against:
        return "-"
    return f"{value / against:.1%}"
