"""Provides `answer`: how a JSON view turns a service call into a response.

A refusal the service explains (a GembokError, or a ValueError about the input) becomes a
422 with its words (429 with Retry-After when asked too often); Denied goes on to the
route's guard, which answers 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, jsonify

from appliance.auth.permissions import Denied
from appliance.errors import GembokError, TooSoon


def answer(call: Any, ok: int = 200) -> Any:
    try:
        result = call()
    except Denied:
        raise
    except TooSoon as exc:
        return jsonify(error=str(exc)), 429, {"Retry-After": str(exc.wait_seconds)}
    except (GembokError, ValueError) as exc:
        return jsonify(error=str(exc)), 422
    if isinstance(result, Response):  # the service's own answer, with its own status
        return result
    return jsonify(result), ok


def then(action: Callable[[], None], result: Any) -> Callable[[], Any]:
    """A call for `answer` of a service that returns nothing: do it, then say `result`."""

    def call() -> Any:
        action()
        return result

    return call
