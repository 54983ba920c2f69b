"""Deterministic, well-formed identifiers for the simulated channel network.

The same seed and index always give the same id, in the YouTube formats the
warehouse validates: channel ids ``UC`` + 22 characters, video ids 11
characters, both from the URL-safe base64 alphabet.
"""

from __future__ import annotations

import base64
import hashlib
import uuid

DEFAULT_SEED = 42
DEFAULT_CHANNELS = 250


def _token(*parts: object, length: int) -> str:
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()[:length]


def channel_id(index: int, seed: int = DEFAULT_SEED) -> str:
    """The YouTube channel id of simulated channel ``index``."""
    return "UC" + _token(seed, "channel", index, length=22)


def youtube_video_id(channel_index: int, upload_index: int, seed: int = DEFAULT_SEED) -> str:
    """The YouTube video id of the ``upload_index``-th upload of channel ``channel_index``."""
    return _token(seed, "video", channel_index, upload_index, length=11)


def platform_video_id(channel_index: int, upload_index: int, seed: int = DEFAULT_SEED) -> uuid.UUID:
    """The platform's own id (``ytempire.videos.video_id``) of the same video."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"ytempire:{seed}:{channel_index}:{upload_index}")


def uploads_playlist_id(channel: str) -> str:
    """YouTube's uploads playlist of a channel: its id with ``UC`` replaced by ``UU``."""
    return "UU" + channel[2:]
