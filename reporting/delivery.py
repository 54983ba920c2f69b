"""Deliver the daily report: the files always, an email when Airflow's SMTP is configured.

The mail uses the settings Airflow itself reads from the environment
(``AIRFLOW__SMTP__SMTP_HOST``, ``_PORT``, ``_STARTTLS``, ``_SSL``, ``_USER``,
``_PASSWORD``, ``_MAIL_FROM``, ``_TIMEOUT``; Airflow's defaults where unset), so
one configuration serves the DAG's failure mails and the report. It is sent
only when ``AIRFLOW__SMTP__SMTP_HOST`` is set and ``YTEMPIRE_REPORT_EMAIL_TO``
names recipients; otherwise :func:`send_email` says which is missing and sends
nothing. The body is the text summary; the page is attached (mail clients
block data-URI images in a body, not in an opened attachment).
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path

log = logging.getLogger(__name__)

_TRUE = {"true", "1", "yes", "on"}


@dataclass(frozen=True)
class ReportFiles:
    html: Path
    text: Path


@dataclass(frozen=True)
class SmtpConfig:
    """Airflow's ``[smtp]`` section as its environment variables set it."""

    host: str
    port: int = 25
    starttls: bool = True
    ssl: bool = False
    user: str | None = None
    password: str | None = None
    mail_from: str = "airflow@example.com"
    timeout_s: int = 30

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpConfig | None:
        """The configuration, or None when ``AIRFLOW__SMTP__SMTP_HOST`` is not set."""
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(f"AIRFLOW__SMTP__SMTP_{name}")
            return value if value else None

        host = get("HOST")
        if host is None:
            return None
        return cls(
            host=host,
            port=int(get("PORT") or 25),
            starttls=(get("STARTTLS") or "True").lower() in _TRUE,
            ssl=(get("SSL") or "False").lower() in _TRUE,
            user=get("USER"),
            password=get("PASSWORD"),
            mail_from=get("MAIL_FROM") or "airflow@example.com",
            timeout_s=int(get("TIMEOUT") or 30),
        )


def write_files(out_dir: Path, day: date, html: str, text: str) -> ReportFiles:
    """Write ``daily-report-<day>.html`` and ``.txt`` into ``out_dir`` (made if absent).

    Each file is written beside its final name and renamed over it, so a reader
    never sees half a report.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    files = ReportFiles(out_dir / f"daily-report-{day}.html", out_dir / f"daily-report-{day}.txt")
    for path, content in ((files.html, html), (files.text, text)):
        partial = path.with_suffix(path.suffix + ".partial")
        partial.write_text(content, encoding="utf-8")
        partial.replace(path)
    return files


def build_message(
    day: date, subject_line: str, files: ReportFiles, mail_from: str, recipients: list[str]
) -> EmailMessage:
    """The report as a mail: the text summary as body, the page attached."""
    message = EmailMessage()
    message["Subject"] = f"YTEmpire daily report {day}: {subject_line}"
    message["From"] = mail_from
    message["To"] = ", ".join(recipients)
    message.set_content(files.text.read_text(encoding="utf-8"))
    message.add_attachment(
        files.html.read_bytes(), maintype="text", subtype="html", filename=files.html.name
    )
    return message


def recipients_of(value: str) -> list[str]:
    return [address.strip() for address in value.split(",") if address.strip()]


def send_email(
    day: date,
    subject_line: str,
    files: ReportFiles,
    recipients: list[str],
    config: SmtpConfig | None = None,
) -> str:
    """Send the report if SMTP and recipients are configured; return what was done (a log line).

    Raises ``smtplib.SMTPException`` or ``OSError`` when the server refuses or
    cannot be reached: the files are written already, the caller decides.
    """
    config = config if config is not None else SmtpConfig.from_env()
    if config is None:
        return "email: skipped, Airflow's SMTP is not configured (AIRFLOW__SMTP__SMTP_HOST unset)"
    if not recipients:
        return "email: skipped, no recipients (set YTEMPIRE_REPORT_EMAIL_TO)"
    message = build_message(day, subject_line, files, config.mail_from, recipients)
    smtp_class = smtplib.SMTP_SSL if config.ssl else smtplib.SMTP
    with smtp_class(config.host, config.port, timeout=config.timeout_s) as smtp:
        if config.starttls and not config.ssl:
            smtp.starttls(context=ssl.create_default_context())
        if config.user and config.password:
            smtp.login(config.user, config.password)
        smtp.send_message(message)
    return f"email: sent to {', '.join(recipients)} via {config.host}:{config.port}"
