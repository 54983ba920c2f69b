"""Configuration of the streaming jobs: YTEMPIRE_STREAM_* variables, each with one default.

Kept beside the jobs rather than in :mod:`ytempire.settings` so that importing
the shared core stays free of streaming concerns; the variables follow the
same rule (one documented default, overridable on the command line).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from ytempire import topics
from ytempire.settings import Settings, get_settings, setting

# The job's query (streaming/channel_windows.py); it names its checkpoint folder.
WINDOWS_QUERY = "channel_windows"

_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
_DURATION = re.compile(r"^\s*(\d+)\s*(second|minute|hour|day)s?\s*$", re.IGNORECASE)


def duration_seconds(text: str) -> int:
    """Seconds in a Spark-style duration such as ``"5 minutes"`` or ``"10 seconds"``."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(
            f"not a duration: {text!r}; write it as '<n> seconds|minutes|hours|days', "
            "e.g. '5 minutes'"
        )
    return int(match.group(1)) * _UNITS[match.group(2).lower()]


@dataclass(frozen=True)
class StreamConfig:
    """Everything the channel-windows job needs besides the service endpoints."""

    window: str = setting("YTEMPIRE_STREAM_WINDOW", "5 minutes", "Length of a window.")
    slide: str = setting("YTEMPIRE_STREAM_SLIDE", "1 minute", "Slide between window starts.")
    watermark: str = setting(
        "YTEMPIRE_STREAM_WATERMARK", "1 minute", "How late an event may arrive and still count."
    )
    trigger: str = setting(
        "YTEMPIRE_STREAM_TRIGGER", "10 seconds", "Micro-batch interval of continuous runs."
    )
    topics: str = setting(
        "YTEMPIRE_STREAM_TOPICS",
        f"{topics.VIDEO_EVENTS.name},{topics.CHANNEL_EVENTS.name}",
        "Kafka topics read, comma-separated.",
    )
    checkpoint_root: str = setting(
        "YTEMPIRE_STREAM_CHECKPOINT_DIR",
        "",
        "Folder of the queries' checkpoints (default: $YTEMPIRE_LOCAL_DIR/checkpoints).",
    )
    starting_offsets: str = setting(
        "YTEMPIRE_STREAM_STARTING_OFFSETS",
        "earliest",
        "Where a query without a checkpoint starts: earliest or latest.",
    )
    max_offsets_per_trigger: str = setting(
        "YTEMPIRE_STREAM_MAX_OFFSETS_PER_TRIGGER",
        "0",
        "Cap on events per micro-batch (0: no cap).",
    )
    query_prefix: str = setting(
        "YTEMPIRE_STREAM_QUERY_PREFIX",
        "",
        "Prefix of query names and checkpoint folders (isolates parallel runs).",
    )

    @classmethod
    def from_env(cls, settings: Settings | None = None, **overrides: Any) -> StreamConfig:
        """Read the variables, apply non-None ``overrides`` and validate."""
        values: dict[str, str] = {
            f.name: os.environ.get(f.metadata["env"]) or str(f.default) for f in fields(cls)
        }
        if not values["checkpoint_root"]:
            local_dir = (settings or get_settings()).local_dir
            values["checkpoint_root"] = str(Path(local_dir) / "checkpoints")
        config = cls(**values)
        config = replace(config, **{k: str(v) for k, v in overrides.items() if v is not None})
        config.validate()
        return config

    def validate(self) -> None:
        window, slide = self.window_seconds, self.slide_seconds
        self.watermark_seconds  # noqa: B018  (raises on a malformed duration)
        duration_seconds(self.trigger)
        if slide > window:
            raise ValueError(f"slide {self.slide!r} is longer than window {self.window!r}")
        if not self.topic_list:
            raise ValueError("no topics to read; set YTEMPIRE_STREAM_TOPICS or --topics")
        if self.starting_offsets not in ("earliest", "latest"):
            raise ValueError(
                f"starting offsets must be 'earliest' or 'latest', got {self.starting_offsets!r}"
            )
        if self.max_offsets < 0:
            raise ValueError("max offsets per trigger must be >= 0")

    @property
    def window_seconds(self) -> int:
        return duration_seconds(self.window)

    @property
    def slide_seconds(self) -> int:
        return duration_seconds(self.slide)

    @property
    def watermark_seconds(self) -> int:
        return duration_seconds(self.watermark)

    @property
    def topic_list(self) -> list[str]:
        return [t.strip() for t in self.topics.split(",") if t.strip()]

    @property
    def max_offsets(self) -> int:
        try:
            return int(self.max_offsets_per_trigger)
        except ValueError as exc:
            raise ValueError(
                f"max offsets per trigger must be an integer, got {self.max_offsets_per_trigger!r}"
            ) from exc

    def query_name(self, base: str) -> str:
        return f"{self.query_prefix}{base}"

    def checkpoint(self, base: str) -> str:
        """Each query's own checkpoint folder."""
        return str(Path(self.checkpoint_root) / self.query_name(base))
