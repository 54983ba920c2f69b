"""Runner: land the channels' new YouTube Reporting API reports in ``raw_youtube_reporting``.

The logic lives in :mod:`ingestion.youtube_reporting.landing` (``land_reports``);
this file only parses the arguments (dlt's verified-source layout). Same as
``ytempire ingest youtube-reporting [--channel C ...]``::

    uv run python -m ingestion.youtube_reporting_pipeline
"""

from __future__ import annotations

import argparse
import logging

from ingestion.youtube_reporting.landing import land_reports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channel", action="append", default=None, help="repeatable")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    print(land_reports(args.channel))


if __name__ == "__main__":
    main()
