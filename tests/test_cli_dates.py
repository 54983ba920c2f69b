"""Every day the CLI takes is ISO 8601 ``YYYY-MM-DD``: ``2025-1-3`` is refused with an example.

The family, not the example: the command tree is walked and every option or
argument that takes a date must use ``ytempire_cli.options.ISO_DATE``; then a
few commands are given malformed days and must refuse them before doing anything.
"""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from click.testing import CliRunner

from ytempire.dates import parse_iso_date
from ytempire_cli.main import cli
from ytempire_cli.options import ISO_DATE, IsoDate

BAD_DAYS = ("2025-1-3", "20250103", "2025-01-3", "03/01/2025", "2025-02-30", "2025-01-03T00:00")


def _commands(
    group: click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, click.Command]]:
    yield " ".join(path), group
    if isinstance(group, click.Group):
        ctx = click.Context(group)
        for name in group.list_commands(ctx):
            sub = group.get_command(ctx, name)
            if sub is not None:
                yield from _commands(sub, (*path, name))


def test_every_date_parameter_of_every_command_is_iso_only() -> None:
    dated = []
    for path, command in _commands(cli):
        for param in command.params:
            if isinstance(param.type, click.DateTime):
                pytest.fail(f"`ytempire {path} {param.opts[0]}` takes strptime dates")
            if isinstance(param.type, IsoDate):
                dated.append(f"{path} {param.opts[0]}")
    assert len(dated) >= 10, dated  # the walk saw the commands that take days


@pytest.mark.parametrize("bad", BAD_DAYS)
def test_a_non_iso_day_is_refused_with_an_example(bad: str) -> None:
    with pytest.raises(ValueError, match=r"e\.g\. 2025-01-03"):
        parse_iso_date(bad)
    with pytest.raises(click.BadParameter, match=r"e\.g\. 2025-01-03"):
        ISO_DATE.convert(bad, None, None)


@pytest.mark.parametrize(
    "args",
    [
        ["airflow", "run", "--date", "2025-1-3"],
        ["airflow", "runs", "--from", "2025-01-01", "--to", "2025-1-3"],
        ["ingest", "youtube", "--date", "2025-1-3"],
        ["report", "daily", "--date", "2025-1-3"],
        ["simulate", "events", "--from", "2025-1-3"],
    ],
)
def test_commands_refuse_a_non_iso_day_before_doing_anything(args: list[str]) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "'2025-1-3' is not an ISO date: give YYYY-MM-DD, e.g. 2025-01-03" in result.output


def test_an_iso_day_is_taken() -> None:
    assert ISO_DATE.convert("2025-01-03", None, None).date().isoformat() == "2025-01-03"
