"""The import layering of ARCHITECTURE.md holds (import-linter contracts in pyproject.toml).

The core (``ytempire``) imports no layer; the CLI sits on top; the stages are
independent of each other. The second test proves the check can fail: a copy
of the tree whose core imports a stage must break the contracts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from ytempire.settings import PROJECT_ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
PACKAGES = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
    "root_packages"
]


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_layering_contracts_are_kept():
    result = lint_imports(PROJECT_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_a_core_module_importing_a_stage_breaks_the_check(tmp_path):
    for package in PACKAGES:
        shutil.copytree(
            PROJECT_ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    quota = tmp_path / "ytempire" / "quota.py"
    quota.write_text(quota.read_text() + "\nimport ingestion.youtube.api  # noqa: E402, F401\n")

    result = lint_imports(tmp_path)

    assert result.returncode == 1, result.stdout
    assert (
        "The core (ytempire) imports no layer of the project, nor Airflow BROKEN" in result.stdout
    )
    assert "ytempire.quota -> ingestion.youtube.api" in result.stdout


def test_dag_files_import_only_orchestration_of_the_project():
    """airflow/dags/ is not a package import-linter sees: its imports are read here."""
    import ast

    project = set(PACKAGES)
    for dag_file in sorted((PROJECT_ROOT / "airflow" / "dags").glob("*.py")):
        tree = ast.parse(dag_file.read_text())
        imported = {
            name.split(".")[0]
            for node in ast.walk(tree)
            for name in (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
        }
        assert imported & project == {"orchestration"}, dag_file.name
