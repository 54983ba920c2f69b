"""Long-running app services of the local stack: start detached, stop cleanly, tell their state.

An :class:`AppService` is one ``ytempire ...`` command that runs until it is
told to stop (the event processor, the outbox relay, the webhook, the
continuous Spark job). :class:`Supervisor` runs each in a session of its own
(so it outlives the command that started it), with a pid file
``<name>.pid`` and an append-only log ``<name>.log`` in
``Settings.services_path``:

* ``start`` is idempotent (a running service is left alone and said so),
  refuses a service whose port is already taken, and waits for a service
  with a health URL to answer 200 (or to exit, which is reported with the
  tail of its log).
* ``stop`` sends SIGTERM, waits for the process to exit (the commands finish
  their batch, commit and print a summary), and only after ``timeout_s``
  sends SIGKILL, saying so. Children left behind (a Spark driver's JVM) are
  ended the same way.
* ``state`` reads the pid file and checks that the pid still runs the
  service's command (a pid reused by another program is not the service).

Standard library plus psutil; nothing here imports the layers the services run.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil

from ytempire.errors import YTEmpireError

STOP_TIMEOUT_S = 30.0
START_TIMEOUT_S = 120.0
LOG_TAIL_LINES = 15


class ServiceError(YTEmpireError):
    """A service could not be started or stopped; the message says why and what to do."""


@dataclass(frozen=True)
class AppService:
    """One long-running ``ytempire`` command.

    ``args`` are the CLI arguments after ``ytempire``; ``port`` is the
    (host, port) it listens on, if any; ``health_url`` answers 200 once it
    serves; ``port_setting`` names the variable that moves it.
    """

    name: str
    args: tuple[str, ...]
    port: tuple[str, int] | None = None
    health_url: str | None = None
    port_setting: str = ""


@dataclass(frozen=True)
class ServiceState:
    """What the pid file and the process table say about a service."""

    name: str
    running: bool
    pid: int | None = None
    started_at: datetime | None = None
    note: str = ""

    def uptime_s(self, now: datetime | None = None) -> float | None:
        if self.started_at is None:
            return None
        return ((now or datetime.now(UTC)) - self.started_at).total_seconds()


def ytempire_executable() -> str:
    """The ``ytempire`` console script of this environment."""
    return str(Path(sys.executable).with_name("ytempire"))


def port_taken(host: str, port: int) -> bool:
    """Does something accept TCP connections on ``host:port``?"""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2)
        return sock.connect_ex((host, port)) == 0


def http_status(url: str, timeout_s: float = 5.0) -> int | None:
    """The HTTP status ``GET url`` answers, or None if nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as resp:  # noqa: S310 (local URL)
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except OSError:
        return None


def format_duration(seconds: float) -> str:
    """``93784`` -> ``1d 2h``, ``3725`` -> ``1h 2m``, ``65`` -> ``1m 5s``."""
    s = int(seconds)
    days, s = divmod(s, 86_400)
    hours, s = divmod(s, 3600)
    minutes, s = divmod(s, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    if minutes:
        return f"{minutes}m {s}s"
    return f"{s}s"


class Supervisor:
    """Start, stop and inspect app services, with their files in ``directory``."""

    def __init__(self, directory: Path, executable: str | None = None) -> None:
        self.directory = directory
        self.executable = executable or ytempire_executable()

    def pid_file(self, service: AppService) -> Path:
        return self.directory / f"{service.name}.pid"

    def log_file(self, service: AppService) -> Path:
        return self.directory / f"{service.name}.log"

    def _process(self, service: AppService) -> psutil.Process | None:
        """The running process of the service, if its pid file names one that runs it."""
        try:
            pid = int(self.pid_file(service).read_text().split()[0])
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                return None
            command = process.cmdline()
        except (FileNotFoundError, IndexError, ValueError, psutil.Error):
            return None
        tail = command[-len(service.args) :] if service.args else []
        return process if tail == list(service.args) else None

    def state(self, service: AppService) -> ServiceState:
        process = self._process(service)
        if process is not None:
            started = datetime.fromtimestamp(process.create_time(), UTC)
            return ServiceState(service.name, True, process.pid, started)
        if self.pid_file(service).exists():
            return ServiceState(
                service.name,
                False,
                note=f"exited without `ytempire services stop`; see {self.log_file(service)}",
            )
        return ServiceState(service.name, False)

    def log_tail(self, service: AppService, lines: int = LOG_TAIL_LINES) -> str:
        try:
            text = self.log_file(service).read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def start(
        self,
        service: AppService,
        *,
        env: Mapping[str, str] | None = None,
        timeout_s: float = START_TIMEOUT_S,
        progress: Callable[[str], None] = lambda _msg: None,
    ) -> ServiceState:
        """Start ``service`` unless it runs; return its state. Raises :class:`ServiceError`."""
        current = self.state(service)
        if current.running:
            progress(f"{service.name}: already running (pid {current.pid})")
            return current
        if service.port and port_taken(*service.port):
            host, port = service.port
            raise ServiceError(
                f"{service.name}: {host}:{port} is already taken by another process, so the "
                f"service was not started. Next: stop what listens there, or set "
                f"{service.port_setting or 'its port setting'} to a free port."
            )
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [self.executable, *service.args]
        log_path = self.log_file(service)
        with log_path.open("ab") as log:
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            log.write(f"--- {stamp} started: ytempire {' '.join(service.args)}\n".encode())
            log.flush()
            child = subprocess.Popen(
                command,
                env=dict(os.environ if env is None else env),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group; outlives this command
            )
        tmp = self.pid_file(service).with_suffix(".pid.tmp")
        tmp.write_text(f"{child.pid}\n")
        tmp.replace(self.pid_file(service))
        progress(f"{service.name}: started (pid {child.pid}, log {log_path})")
        if service.health_url:
            self._wait_healthy(service, child, timeout_s)
            progress(f"{service.name}: answers {service.health_url}")
        return self.state(service)

    def _wait_healthy(
        self, service: AppService, child: subprocess.Popen[bytes], timeout_s: float
    ) -> None:
        assert service.health_url is not None
        deadline = time.monotonic() + timeout_s
        while http_status(service.health_url) != 200:
            code = child.poll()
            if code is not None:
                self.pid_file(service).unlink(missing_ok=True)
                raise ServiceError(
                    f"{service.name} exited with status {code} before answering "
                    f"{service.health_url}. Last lines of {self.log_file(service)}:\n"
                    f"{self.log_tail(service)}"
                )
            if time.monotonic() > deadline:
                raise ServiceError(
                    f"{service.name} (pid {child.pid}) did not answer {service.health_url} "
                    f"within {timeout_s:.0f} s; it is left running. Next: read "
                    f"{self.log_file(service)}, then `ytempire services stop {service.name}`."
                )
            time.sleep(0.2)

    def stop(
        self,
        service: AppService,
        *,
        timeout_s: float = STOP_TIMEOUT_S,
        progress: Callable[[str], None] = lambda _msg: None,
    ) -> bool:
        """SIGTERM, wait up to ``timeout_s`` for the exit, then SIGKILL.

        Returns True if the service exited on SIGTERM (or was not running),
        False if it had to be killed.
        """
        process = self._process(service)
        if process is None:
            progress(f"{service.name}: not running")
            self.pid_file(service).unlink(missing_ok=True)
            return True
        children = process.children(recursive=True)
        progress(f"{service.name}: stopping (pid {process.pid}, SIGTERM)")
        process.send_signal(signal.SIGTERM)
        _, alive = psutil.wait_procs([process], timeout=timeout_s)
        clean = not alive
        if alive:
            progress(
                f"{service.name}: still running {timeout_s:.0f} s after SIGTERM; "
                f"killing it (SIGKILL). Its last lines are in {self.log_file(service)}"
            )
            _kill(alive)
        # What it started and left behind (a Spark driver's JVM ends with its parent).
        _, leftovers = psutil.wait_procs([c for c in children if c.is_running()], timeout=10)
        if leftovers:
            progress(f"{service.name}: killing {len(leftovers)} process(es) it left behind")
            _kill(leftovers)
        self.pid_file(service).unlink(missing_ok=True)
        progress(f"{service.name}: stopped" + ("" if clean else " (killed)"))
        return clean


def _kill(processes: list[psutil.Process]) -> None:
    for p in processes:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            continue
    psutil.wait_procs(processes, timeout=10)
