"""A newcomer finds every setting and every command in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.cli import _plugins, cli
from appliance.config import describe

_plugins()  # `gembok admin` too, as `gembok` itself loads it
README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


@pytest.mark.parametrize("info", describe(), ids=lambda i: i.key)
def test_every_setting_is_documented_with_its_variable(info):
    assert f"| `{info.key}` | `{info.env}` |" in README


def commands(group, prefix="gembok"):
    for name, command in group.commands.items():
        if hasattr(command, "commands"):
            yield from commands(command, f"{prefix} {name}")
        else:
            yield f"{prefix} {name}"


@pytest.mark.parametrize("command", sorted(commands(cli)))
def test_every_command_is_documented(command):
    assert f"`{command}`" in README


def test_the_two_commands_are_there():
    assert "make run" in README and "make test" in README
