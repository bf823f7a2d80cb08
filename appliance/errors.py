"""Provides the one error type an operator sees as a single line, and its exit code."""


class GembokError(Exception):
    """A failure an operator can act on: the message says what is wrong, where, and what to do.

    Commands print it as one line (no traceback) and exit with `exit_code`, so that
    scripts, systemd and the IT admin at 2 a.m. all get the same clear answer.
    """

    exit_code = 2


class TooSoon(GembokError):
    """Asked too often: the message says how long to wait (the web answers 429)."""

    def __init__(self, message: str, wait_seconds: int) -> None:
        super().__init__(message)
        self.wait_seconds = wait_seconds
