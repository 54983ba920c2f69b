"""Runner: land one quota day of YouTube Data API statistics in ``raw_youtube``.

The logic lives in :mod:`ingestion.youtube.landing` (``run_day``); this file
only parses the arguments (dlt's verified-source layout). Same as
``ytempire ingest youtube [--date D]``::

    uv run python -m ingestion.youtube_pipeline --date 2025-01-02
"""

from __future__ import annotations

import argparse
import logging
from datetime import date

from ingestion.youtube.landing import run_day


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--date", type=date.fromisoformat, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    print(run_day(args.date))


if __name__ == "__main__":
    main()
