"""A test run never writes into the demo's outputs: its reports, Data Docs and dbt target.

``tests/conftest.py`` points the three at a folder of the session's own. This
test runs the paths that write them the way users do (``ytempire report daily``
with its default folder, a GX checkpoint with its default Data Docs site, a
``dbt parse``) and checks each wrote into the session's folder while the
demo's folders (under the checkout) are exactly as before: same files, sizes
and modification times, and absent if they were absent.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from expectations.checkpoints import docs_dir, run_checkpoint
from tests.conftest import OUTPUTS
from ytempire.dbt_runner import DBT_PROJECT_DIR, run_dbt, target_dir
from ytempire.settings import PROJECT_ROOT, Settings, get_settings
from ytempire_cli.main import main as cli_main

pytestmark = pytest.mark.services

DAY = date(2025, 1, 3)
DEMO_FOLDERS = (
    PROJECT_ROOT / ".local" / "reports",
    PROJECT_ROOT / ".local" / "data_docs",
    DBT_PROJECT_DIR / "target",
)


def _state(folder: Path) -> dict[str, tuple[int, int]] | None:
    """Every file under ``folder`` with its size and modification time; None when absent."""
    if not folder.exists():
        return None
    return {
        str(path.relative_to(folder)): (path.stat().st_size, path.stat().st_mtime_ns)
        for path in folder.rglob("*")
        if path.is_file()
    }


def test_report_validation_and_dbt_write_into_the_sessions_folder_only(
    test_database: str, settings: Settings, capsys
):
    before = {folder: _state(folder) for folder in DEMO_FOLDERS}
    s = get_settings()
    assert s.reports_path.is_relative_to(OUTPUTS)
    assert docs_dir(s).is_relative_to(OUTPUTS)
    assert target_dir().is_relative_to(OUTPUTS)

    cli_main(["report", "daily", "--date", DAY.isoformat(), "--no-freshness", "--no-email"])
    page = s.reports_path / f"daily-report-{DAY}.html"
    assert f"report: {page}" in capsys.readouterr().out
    run = run_checkpoint("raw", DAY, suites=["channel_data_quality"], settings=s)
    assert run.docs_index is not None
    assert run.docs_index.is_file()
    assert run.docs_index.is_relative_to(OUTPUTS)
    run_dbt("parse", quiet=True)
    assert (target_dir() / "manifest.json").is_file()

    assert {folder: _state(folder) for folder in DEMO_FOLDERS} == before
