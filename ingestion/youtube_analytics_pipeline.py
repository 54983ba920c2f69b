"""Runner: land the channels' revenue from the YouTube Analytics API in ``raw_youtube_analytics``.

The logic lives in :mod:`ingestion.youtube_analytics.landing` (``land_revenue``);
this file only parses the arguments (dlt's verified-source layout). Same as
``ytempire ingest youtube-analytics [--channel C ...]``::

    uv run python -m ingestion.youtube_analytics_pipeline
"""

from __future__ import annotations

import argparse
import logging

from ingestion.youtube_analytics.landing import land_revenue


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channel", action="append", default=None, help="repeatable")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    print(land_revenue(args.channel))


if __name__ == "__main__":
    main()
