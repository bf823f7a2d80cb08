"""Provides what makes a command a thin shell: one-line errors, settings, the runtime opened once.

Every command that works on the data opens it the way every process does (`open_runtime`),
and lets go of the database when it is done, through `with_runtime`; none opens or closes
the database itself.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import click

from appliance.config import Settings, load_settings
from appliance.errors import GembokError

if TYPE_CHECKING:
    from appliance.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])
P = ParamSpec("P")
R = TypeVar("R")


def one_line_errors(func: F) -> F:
    """An operator gets `gembok: <what is wrong and what to do>`, not a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except GembokError as exc:
            click.echo(f"gembok: {exc}", err=True)
            sys.exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def cli_settings() -> Settings:
    """Settings from the file and environment, and the log lines on stderr at their level."""
    settings = load_settings()
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return settings


def with_runtime(func: Callable[Concatenate[Runtime, P], R]) -> Callable[P, R]:
    """Opens the appliance for `func` (its first argument) and closes the database after.

    The data dir's checks (key file, keys, schema) fail here, before the command does
    anything, with the same one clear error as in every other process. Closing in `finally`
    leaves no connection behind for whoever runs commands in the same process (`CliRunner`
    in the tests), whether the command returned, failed or called `sys.exit`. Put it below
    `one_line_errors`, so that a refusal to open becomes that one line.
    """

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from appliance.runtime import open_runtime  # imported late: `gembok version` stays quick
        from appliance.store.db import close_connection

        rt = open_runtime(cli_settings())
        try:
            return func(rt, *args, **kwargs)
        finally:
            close_connection()

    return wrapper

