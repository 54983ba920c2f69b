"""Every port the local stack's commands listen on moves with an environment variable.

Pure: click resolves each command's ``--port`` (as ``ytempire`` would run it)
without starting a server; every variable an option reads is in .env.example.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from ytempire_cli.main import cli

PORTS = [
    (("serve", "metrics"), "YTEMPIRE_METRICS_PORT", 9108),
    (("warehouse", "docs"), "YTEMPIRE_DBT_DOCS_PORT", 8580),
    (("simulate", "youtube"), "YTEMPIRE_YOUTUBE_SIM_PORT", 8085),
]


def _command(path: tuple[str, ...]) -> click.Command:
    command: click.Command = cli
    with click.Context(cli) as ctx:
        for name in path:
            assert isinstance(command, click.Group)
            found = command.get_command(ctx, name)
            assert found is not None, name
            command = found
    return command


def _port(path: tuple[str, ...]) -> object:
    with _command(path).make_context(path[-1], []) as ctx:
        return ctx.params["port"]


@pytest.mark.parametrize(("path", "variable", "default"), PORTS)
def test_the_port_comes_from_its_variable_else_its_default(
    path: tuple[str, ...], variable: str, default: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(variable, raising=False)
    assert _port(path) == default
    monkeypatch.setenv(variable, "18123")
    assert _port(path) == 18123
    # the option given on the command line wins over the variable
    with _command(path).make_context(path[-1], ["--port", "18124"]) as ctx:
        assert ctx.params["port"] == 18124


@pytest.mark.parametrize(("path", "variable", "default"), PORTS)
def test_help_names_the_variable(path: tuple[str, ...], variable: str, default: int) -> None:
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())  # click wraps the help to the terminal's width
    assert f"env var: {variable}; default: {default}" in shown


def test_env_example_documents_every_variable_the_cli_names() -> None:
    """Read from the source (importing every command takes seconds): each ``YTEMPIRE_*``
    string in ytempire_cli, an option's ``envvar`` or a variable it reads."""
    root = Path(__file__).parents[1]
    example = (root / ".env.example").read_text()
    variables = {
        node.value
        for path in (root / "ytempire_cli").rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"YTEMPIRE_[A-Z0-9_]+", node.value)
    }
    assert {v for _, v, _ in PORTS} <= variables
    assert [v for v in sorted(variables) if not re.search(rf"^#? ?{v}=", example, re.M)] == []
