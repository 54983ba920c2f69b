"""``ytempire services``: the app tier of the local stack, run as long-lived services.

The continuous parts of the warehouse are services, not DAG tasks; ``ytempire doctor``
shows each one's state, pid, uptime and:

* processor (``ytempire process events``): its consumer group's members and lag per
  topic, from the broker;
* outbox (``ytempire process outbox``): the events pending in ``ytempire.outbox``;
* webhook (``ytempire serve webhook``): ``GET /healthz`` on YTEMPIRE_WEBHOOK_HOST:PORT;
* windows (``ytempire stream windows``): the last committed micro-batch, read from its
  checkpoint without Spark, and the lag behind it.

They are a second tier: ``scripts/services.sh start`` starts the
infrastructure only (PostgreSQL, Redis, Kafka: what setup and CI need);
``scripts/services.sh start apps|all`` (or ``make up``) adds these. Pid and log
files are ``$YTEMPIRE_SERVICES_DIR/<name>.pid|.log`` (default
``.local/services/``). Each reads the ``YTEMPIRE_*`` settings of the
environment it is started from, so a second stack (a test's, another
engineer's) runs beside the first with its own database, topics, group and port.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import click

from ytempire.settings import Settings, get_settings
from ytempire.supervisor import (
    STOP_TIMEOUT_S,
    AppService,
    ServiceError,
    ServiceState,
    Supervisor,
    format_duration,
    http_status,
)

SERVICE_NAMES = ("processor", "outbox", "webhook", "windows")  # start order; stop reverses it


def app_services(s: Settings) -> dict[str, AppService]:
    """The app services of the stack ``s`` describes, by name, in start order."""
    # A service bound to every interface is probed on loopback.
    host = "127.0.0.1" if s.webhook_host in ("0.0.0.0", "::", "") else s.webhook_host  # noqa: S104
    services = (
        AppService("processor", ("process", "events")),
        AppService("outbox", ("process", "outbox")),
        AppService(
            "webhook",
            ("serve", "webhook"),
            port=(host, s.webhook_port),
            health_url=f"http://{host}:{s.webhook_port}/healthz",
            port_setting="YTEMPIRE_WEBHOOK_PORT",
        ),
        AppService("windows", ("stream", "windows")),
    )
    return {service.name: service for service in services}


def supervisor(s: Settings) -> Supervisor:
    return Supervisor(s.services_path)


# --- health and lag ---------------------------------------------------------------------


@dataclass(frozen=True)
class AppHealth:
    """One line of ``doctor`` / ``services status`` for an app service."""

    state: ServiceState
    healthy: bool  # running and its probe passed
    detail: str

    def line(self, width: int) -> str:
        st = self.state
        if st.running:
            uptime = st.uptime_s()
            where = f"pid {st.pid}, up {format_duration(uptime or 0)}"
            status = "running" if self.healthy else "UNHEALTHY"
        else:
            where = "-"
            status = "exited" if st.note else "stopped"
        detail = self.detail + (f"; {st.note}" if st.note else "")
        return f"{st.name:<{width}}  {status:<9}  {where:<22}  {detail}"


def _lag_text(lag: dict[str, int]) -> str:
    from ytempire.topics import lag_by_topic

    if not lag:
        return "lag unknown (no partitions: do the topics exist?)"
    topics = ", ".join(f"{t} {n:,}" for t, n in lag_by_topic(lag).items())
    return f"lag {sum(lag.values()):,} ({topics})"


# A probe returns (healthy, detail) or raises; "healthy" is what a container healthcheck
# asks (`ytempire services check NAME`), so it must be observable from outside the process.


def _probe_processor(s: Settings, _started_at: datetime | None) -> tuple[bool, str]:
    """Healthy: the group has a member, by the broker's account."""
    from kafka.errors import CoordinatorNotAvailableError

    from ytempire.topics import consumer_group_lag, consumer_group_members

    try:
        members = consumer_group_members(s.processor_group_id, s)
    except CoordinatorNotAvailableError:
        # A fresh broker creates its offsets topic only when a first group commits.
        return False, f"group {s.processor_group_id}: none yet (no offsets on this broker)"
    lag = consumer_group_lag(s.processor_group_id, s.processor_topic_list, s)
    who = f"{members} member{'' if members == 1 else 's'}"
    return members > 0, f"group {s.processor_group_id} ({who}): {_lag_text(lag)}"


def _probe_outbox(s: Settings, _started_at: datetime | None) -> tuple[bool, str]:
    """Healthy: the outbox is readable (the relay's own liveness is its process)."""
    from ytempire.clients import pg_connect

    with pg_connect("loader", settings=s) as conn:
        pending, oldest = conn.execute(
            "select count(*), min(created_at) from ytempire.outbox where sent_at is null"
        ).fetchone()  # type: ignore[misc]
    if not pending:
        return True, "outbox: 0 events pending"
    age = format_duration((datetime.now(UTC) - oldest).total_seconds())
    return True, f"outbox: {pending:,} events pending, oldest {age} old"


def _probe_webhook(s: Settings, _started_at: datetime | None) -> tuple[bool, str]:
    """Healthy: GET /healthz answers 200."""
    url = app_services(s)["webhook"].health_url
    code = http_status(str(url))
    return code == 200, f"{url}: " + ("no answer" if code is None else str(code))


def _probe_windows(s: Settings, started_at: datetime | None) -> tuple[bool, str]:
    """Healthy unless stalled: events wait and no micro-batch committed for STALL_TRIGGERS.

    Counted from the last commit, or from ``started_at`` (the process's start)
    if later: a job that was stopped for hours has an old checkpoint and a
    backlog, and is not stalled while it starts.
    """
    from streaming.checkpoints import last_committed_batch
    from streaming.config import WINDOWS_QUERY, StreamConfig, duration_seconds
    from ytempire.clients import kafka_consumer
    from ytempire.topics import partition_lag

    config = StreamConfig.from_env(settings=s)
    checkpoint = Path(config.checkpoint(WINDOWS_QUERY))
    batch = last_committed_batch(checkpoint)
    if batch is None:
        return True, f"no micro-batch committed yet (checkpoint {checkpoint})"
    age_s = (datetime.now(UTC) - batch.committed_at).total_seconds()
    consumer = kafka_consumer(settings=s, request_timeout_ms=10_000)
    try:
        lag = partition_lag(
            consumer, config.topic_list, lambda tp: batch.next_offset(tp.topic, tp.partition)
        )
    finally:
        consumer.close()
    stall_s = max(60, STALL_TRIGGERS * duration_seconds(config.trigger))
    idle_s = min(age_s, (datetime.now(UTC) - (started_at or batch.committed_at)).total_seconds())
    stalled = sum(lag.values()) > 0 and idle_s > stall_s
    detail = f"micro-batch {batch.batch_id} committed {format_duration(age_s)} ago; "
    detail += _lag_text(lag) + (f"; STALLED (nothing committed for {stall_s} s)" if stalled else "")
    return not stalled, detail


STALL_TRIGGERS = 30  # trigger intervals with events waiting and no commit before "stalled"
PROBES = {
    "processor": _probe_processor,
    "outbox": _probe_outbox,
    "webhook": _probe_webhook,
    "windows": _probe_windows,
}
# What each probe asks: skipped when that service is known to be down (doctor stays fast).
PROBE_NEEDS = {"processor": "kafka", "outbox": "postgres", "windows": "kafka"}


def probe(name: str, s: Settings, started_at: datetime | None = None) -> tuple[bool, str]:
    """Run one service's probe (``started_at``: when its process started, if known).

    Never raises: a failure is the detail.
    """
    try:
        return PROBES[name](s, started_at)
    except Exception as exc:  # a probe reports, never crashes doctor
        return False, f"probe failed: {exc}"


def app_health(s: Settings, *, down: frozenset[str] = frozenset()) -> list[AppHealth]:
    """State and probe of every app service; never raises (a failed probe is the detail).

    ``down`` names infrastructure services already found down; probes that need them are
    skipped.
    """
    sup = supervisor(s)
    report = []
    for name, service in app_services(s).items():
        state = sup.state(service)
        if name == "webhook" and not state.running:
            detail, ok = f"{service.health_url} (not probed: stopped)", False
        elif PROBE_NEEDS.get(name) in down:
            detail, ok = f"not probed: {PROBE_NEEDS[name]} is down", False
        else:
            ok, detail = probe(name, s, state.started_at)
        report.append(AppHealth(state, state.running and ok, detail))
    return report


def print_app_health(report: Sequence[AppHealth]) -> None:
    width = max(len(h.state.name) for h in report)
    for health in report:
        click.echo(health.line(width))


# --- commands ---------------------------------------------------------------------------


def _selected(names: tuple[str, ...], s: Settings) -> list[AppService]:
    """The named services (all for none or ``all``), in start order whatever the order given."""
    services = app_services(s)
    if not names or "all" in names:
        return list(services.values())
    return [service for name, service in services.items() if name in names]


names_argument = click.argument(
    "names", nargs=-1, type=click.Choice([*SERVICE_NAMES, "all"]), metavar="[NAME|all]..."
)


@click.group()
def services() -> None:
    """Start, stop and inspect the app services (processor, outbox, webhook, windows)."""


@services.command("start")
@names_argument
def start(names: tuple[str, ...]) -> None:
    """Start the named app services (default: all), each detached with a pid and log file.

    A running service is left alone; one whose port is taken is refused. The
    infrastructure (PostgreSQL, Redis, Kafka) must be up: `scripts/services.sh start`.
    """
    s = get_settings()
    sup = supervisor(s)
    failed = []
    for service in _selected(names, s):
        try:
            sup.start(service, progress=click.echo)
        except ServiceError as exc:  # one refusal never keeps the others from starting
            click.echo(f"error: {exc}", err=True)
            failed.append(service.name)
    if failed:
        raise ServiceError(f"not started: {', '.join(failed)} (see above)")


@services.command("stop")
@names_argument
@click.option(
    "--timeout",
    type=float,
    default=STOP_TIMEOUT_S,
    show_default=True,
    help="Seconds to wait after SIGTERM before SIGKILL.",
)
def stop(names: tuple[str, ...], timeout: float) -> None:
    """Stop the named app services (default: all): SIGTERM, wait for the exit, then SIGKILL."""
    s = get_settings()
    sup = supervisor(s)
    killed = [
        service.name
        for service in reversed(_selected(names, s))
        if not sup.stop(service, timeout_s=timeout, progress=click.echo)
    ]
    if killed:
        raise ServiceError(
            f"killed after {timeout:.0f} s without exiting on SIGTERM: {', '.join(killed)}. "
            "Next: read their logs; work in flight is redone on the next start."
        )


@services.command("status")
@names_argument
def status(names: tuple[str, ...]) -> None:
    """Each app service's state, pid, uptime, health and lag; exit 1 if one is not running."""
    s = get_settings()
    wanted = {service.name for service in _selected(names, s)}
    report = [h for h in app_health(s) if h.state.name in wanted]
    print_app_health(report)
    click.echo(f"pid and log files: {s.services_path}")
    down = [h.state.name for h in report if not h.healthy]
    if down:
        raise click.ClickException(f"not running or unhealthy: {', '.join(down)}")


@services.command("check")
@click.argument("name", type=click.Choice(SERVICE_NAMES))
def check(name: str) -> None:
    """Exit 0 if NAME is healthy as seen from outside it (container healthchecks use this).

    processor: its consumer group has a member; outbox: the outbox table answers;
    webhook: GET /healthz is 200; windows: not stalled (events waiting, no commit).
    Pid files are not consulted, so it works where the service runs in a container.
    """
    ok, detail = probe(name, get_settings())
    click.echo(f"{name}: {'healthy' if ok else 'UNHEALTHY'}: {detail}")
    if not ok:
        raise SystemExit(1)
