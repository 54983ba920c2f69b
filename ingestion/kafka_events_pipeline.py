"""Runner: land the Kafka event topics in ``raw_events`` up to the high-water marks of now.

The logic lives in :mod:`ingestion.kafka_events.landing` (``land_events``);
this file only calls it (dlt's verified-source layout). Same as ``ytempire
ingest events``::

    uv run python -m ingestion.kafka_events_pipeline
"""

from __future__ import annotations

import logging

from ingestion.kafka_events.landing import land_events


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    summary = land_events()
    print(f"landed {summary.messages:,} messages in {summary.loads} loads ({summary.rate:,.0f}/s)")


if __name__ == "__main__":
    main()
