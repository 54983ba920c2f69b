"""Reading a Structured Streaming checkpoint without Spark (what `ytempire doctor` shows)."""

from __future__ import annotations

import json

import pytest

from streaming.checkpoints import last_committed_batch

META = json.dumps({"batchWatermarkMs": 0, "batchTimestampMs": 1796053962721, "conf": {}})


def _batch(root, batch_id: int, offsets: dict, *, committed: bool) -> None:
    (root / "offsets").mkdir(parents=True, exist_ok=True)
    (root / "commits").mkdir(parents=True, exist_ok=True)
    (root / "offsets" / str(batch_id)).write_text(f"v1\n{META}\n{json.dumps(offsets)}\n")
    (root / "offsets" / f".{batch_id}.crc").write_bytes(b"\0")
    if committed:
        (root / "commits" / str(batch_id)).write_text('v1\n{"nextBatchWatermarkMs":0}\n')


def test_no_commit_yet_is_none(tmp_path):
    assert last_committed_batch(tmp_path / "missing") is None
    _batch(tmp_path, 0, {"video-events": {"0": 5}}, committed=False)
    assert last_committed_batch(tmp_path) is None


def test_the_newest_committed_batch_and_its_offsets(tmp_path):
    _batch(tmp_path, 9, {"video-events": {"0": 5, "1": 7}}, committed=True)
    _batch(
        tmp_path, 10, {"video-events": {"0": 8, "1": 7}, "channel-events": {"0": 2}}, committed=True
    )
    # Planned but not committed: the sink has not finished it, so it does not count.
    _batch(tmp_path, 11, {"video-events": {"0": 99, "1": 99}}, committed=False)
    batch = last_committed_batch(tmp_path)
    assert batch is not None
    assert batch.batch_id == 10  # 10 > 9 numerically, not as text
    assert batch.offsets == {"video-events": {0: 8, 1: 7}, "channel-events": {0: 2}}
    assert batch.next_offset("video-events", 0) == 8
    assert batch.next_offset("video-events", 5) is None
    assert batch.committed_at.tzinfo is not None


def test_a_file_that_is_not_an_offsets_log_is_named(tmp_path):
    (tmp_path / "commits").mkdir()
    (tmp_path / "offsets").mkdir()
    (tmp_path / "commits" / "0").write_text("v1\n{}\n")
    (tmp_path / "offsets" / "0").write_text("garbage")
    with pytest.raises(ValueError, match=r"offsets/0: not a Structured Streaming offsets file"):
        last_committed_batch(tmp_path)
