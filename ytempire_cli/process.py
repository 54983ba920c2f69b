"""``ytempire process``: real-time consumers."""

from __future__ import annotations

import time
from collections.abc import Mapping

import click

from ytempire.errors import YTEmpireError


class LagLeft(YTEmpireError):
    """A run with an idle timeout ended with messages left in its topics."""

    exit_code = 3


@click.group()
def process() -> None:
    """Run the real-time consumers."""


@process.command("events")
@click.option(
    "--group-id", default=None, help="Consumer group (default: YTEMPIRE_PROCESSOR_GROUP_ID)."
)
@click.option(
    "--idle-timeout",
    type=float,
    default=None,
    help="Stop after this many seconds without messages, counted from the partition "
    "assignment and the last message (default: run until SIGTERM/Ctrl-C). Exits 3 if "
    "messages are left.",
)
@click.option(
    "--assignment-timeout",
    type=float,
    default=120.0,
    show_default=True,
    help="With --idle-timeout: stop if the group assigns no partition within this many seconds.",
)
@click.option(
    "--topic",
    "topics",
    multiple=True,
    help="Source topic (repeatable; default: YTEMPIRE_PROCESSOR_TOPICS).",
)
@click.option(
    "--max-poll-records",
    type=click.IntRange(min=1),
    default=None,
    help="Records a poll applies at most, in one transaction (default: 2,000).",
)
@click.option(
    "--redis-prefix",
    default=None,
    help="Prefix of the Redis keys written (default: YTEMPIRE_REDIS_KEY_PREFIX).",
)
def events(
    group_id: str | None,
    idle_timeout: float | None,
    assignment_timeout: float,
    topics: tuple[str, ...],
    max_poll_records: int | None,
    redis_prefix: str | None,
) -> None:
    """Process video, channel and user events: operational tables, Redis dashboards, alerts.

    Without --idle-timeout it runs until SIGTERM/Ctrl-C, as the `processor` service does
    (`ytempire services start processor`); `ytempire doctor` shows its group's lag.
    """
    from streaming.processor import POLL_RECORDS, EventProcessor, Topics
    from ytempire.progress import progress_bar
    from ytempire.settings import get_settings

    s = get_settings()
    group_id = group_id or s.processor_group_id
    processor = EventProcessor(
        group_id=group_id,
        topics=Topics(sources=topics or tuple(s.processor_topic_list)),
        redis_prefix=s.redis_key_prefix if redis_prefix is None else redis_prefix,
        poll_records=max_poll_records or POLL_RECORDS,
    )
    started = time.monotonic()
    with progress_bar("processing events", None, "events") as advance:

        def on_poll(_message: str) -> None:
            advance(done=sum(processor.counts.values()))

        try:
            try:
                counts = processor.run(
                    idle_timeout_s=idle_timeout,
                    assignment_timeout_s=assignment_timeout,
                    progress=on_poll,
                )
            except KeyboardInterrupt:
                counts = processor.counts
            lag = processor.lag()
        finally:
            processor.close()
    click.echo(summary(counts, time.monotonic() - started))
    left = sum(lag.values())
    detail = ", ".join(f"{where} {n:,}" for where, n in lag.items() if n)
    click.echo(f"lag left: {left:,}" + (f" ({detail})" if detail else ""))
    if left and idle_timeout is not None:
        raise LagLeft(
            f"{left:,} messages are left unprocessed in consumer group {group_id} ({detail}). "
            "Next: run `ytempire process events` again; partitions a crashed run held are "
            "reassigned once its session times out."
        )


def summary(counts: Mapping[str, int], elapsed_s: float) -> str:
    """The processor's closing lines: handled by type, then what was left to the warehouse."""
    from streaming.processor import SKIPPED

    total = sum(counts.values())
    handled = {k: n for k, n in sorted(counts.items()) if not k.startswith(SKIPPED)}
    skipped = {
        k.removeprefix(SKIPPED): n for k, n in sorted(counts.items()) if k.startswith(SKIPPED)
    }
    line = f"processed {total:,} events in {elapsed_s:.1f}s ({total / max(elapsed_s, 1e-9):,.0f}/s)"
    line += ": " + (", ".join(f"{k} {n:,}" for k, n in handled.items()) or "none")
    if skipped:
        line += "\n  left to the warehouse (no real-time handler, as designed): " + ", ".join(
            f"{k} {n:,}" for k, n in skipped.items()
        )
    return line


@process.command("outbox")
@click.option(
    "--interval", type=float, default=1.0, show_default=True, help="Seconds between polls."
)
@click.option("--once", is_flag=True, help="Relay what is pending now, then stop.")
def outbox(interval: float, once: bool) -> None:
    """Relay ytempire.outbox events to Kafka and mark them sent (the producer's second half).

    Runs until SIGTERM/Ctrl-C (finishing the batch in hand), as the `outbox` service does.
    """
    import signal
    import threading

    from platform_services.producer import relay_outbox
    from ytempire.clients import kafka_producer, pg_connect

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    producer = kafka_producer()
    total = 0
    with pg_connect("loader") as conn:
        try:
            while not stopping.is_set():
                sent, failed = relay_outbox(conn, producer)
                total += sent
                if sent or failed:
                    click.echo(f"  relayed {sent:,} events ({failed:,} failed), {total:,} in all")
                if once and not sent:
                    break
                if not sent:
                    stopping.wait(interval)
        except KeyboardInterrupt:
            pass
        finally:
            producer.close()
    click.echo(f"relayed {total:,} events")
