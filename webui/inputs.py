"""Provides how the web UI reads a request's input: ids, numbers, texts and JSON bodies,
each refused with words (a 400 saying what, where, and what to do) when malformed.

A number is what a form of ours writes: ASCII digits, within SQLite's INTEGER. Before
issue 11 (item 13) an id over 2^63-1 reached SQLite and overflowed (a 500), and so did
digits that are digits only to Unicode: '²' passes `str.isdigit()` and then fails
`int()`; U+0661 (an Arabic-Indic one) passes both, and werkzeug's `<int:>` too (its
`\\d` is Unicode's), and named row 1.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from flask import abort, current_app, jsonify, request
from flask.json.provider import DefaultJSONProvider
from flask_babel import gettext
from werkzeug.routing import IntegerConverter, Map

BIGGEST = 2**63 - 1  # SQLite's INTEGER: no row id, count or day is larger
_DIGITS = frozenset("0123456789")


def whole_number(value: Any) -> int | None:
    """A JSON integer, or a string of ASCII digits, from 0 to BIGGEST; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 <= value <= BIGGEST else None
    if isinstance(value, str) and 0 < len(value) <= 19 and set(value) <= _DIGITS:
        number = int(value)
        return number if number <= BIGGEST else None
    return None


def refuse(words: str) -> NoReturn:
    """A 400 with words: what is wrong, where, and what to do."""
    resp = jsonify(error=words)
    resp.status_code = 400
    abort(resp)


def body() -> dict[str, Any]:
    """The request's JSON object (or its form, when it is not JSON)."""
    data: Any = None
    if not request.is_json:
        data = request.form.to_dict()
    else:
        try:
            data = current_app.json.loads(request.get_data(cache=True))
        except NumberTooBig:
            refuse(gettext("A number in the request body is larger than any id or count here "
                           "(at most %(biggest)s). Reload the page and try again.",
                           biggest=BIGGEST))
        except ValueError:  # not JSON, or not UTF-8
            data = None
    if not isinstance(data, dict):
        refuse(gettext("The request body must be a JSON object whose whole numbers have at "
                       "most 19 digits. Reload the page and try again."))
    return data


def text(data: dict[str, Any], name: str) -> str:
    value = data.get(name, "")
    if not isinstance(value, str):
        refuse(gettext("“%(name)s” in the request body must be text. Reload the page and "
                       "try again.", name=name))
    return value


def texts(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        refuse(gettext("“%(name)s” in the request body must be a list of texts. Reload the "
                       "page and try again.", name=name))
    return value


def field(data: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    """A field of the expected type (a JSON true is not a number here); 400 with words."""
    value = data.get(name, default)
    if value is None:
        return None
    if kind is int:
        number = whole_number(value) if not isinstance(value, str) else None
        if number is None:
            refuse(f"{name} must be a whole number from 0 (or left out)")
        return number
    if not isinstance(value, kind):
        refuse(f"{name} must be a {kind.__name__}")
    return value


def ids(data: dict[str, Any], name: str) -> list[int]:
    """A list of row ids (whole numbers, never text); 400 with words."""
    value = data.get(name, [])
    found = [whole_number(v) for v in value] if isinstance(value, list) else [None]
    if any(i is None or isinstance(v, str) for i, v in zip(found, value or [None],
                                                              strict=False)):
        refuse(f"{name} must be a list of ids (whole numbers)")
    return [i for i in found if i is not None]


def query_number(name: str) -> int | None:
    """A number from the address's query (`?division=3`), or None when it is not given."""
    value = request.args.get(name, "")
    if value == "":
        return None
    number = whole_number(value)
    if number is None:
        refuse(gettext("“%(name)s” in the address must be a whole number written with the "
                       "digits 0 to 9, at most %(biggest)s. Reload the page and try again.",
                       name=name, biggest=BIGGEST))
    return number


def required_number(data: dict[str, Any], name: str) -> int:
    number = body_number(data, name)
    if number is None:
        refuse(gettext("“%(name)s” is missing from the request body. Reload the page and "
                       "try again.", name=name))
    return number


def body_number(data: dict[str, Any], name: str) -> int | None:
    """A number from the body: a JSON integer or ASCII digits; None (or "") for none."""
    value = data.get(name)
    if value is None or value == "":
        return None
    number = whole_number(value)
    if number is None:
        refuse(gettext("“%(name)s” in the request body must be a whole number written with "
                       "the digits 0 to 9, at most %(biggest)s. Reload the page and try "
                       "again.", name=name, biggest=BIGGEST))
    return number


class RowId(IntegerConverter):
    """`<int:...>` in every route: ASCII digits up to BIGGEST; anything else matches no
    route, a 404 like any id that does not exist."""

    regex = r"[0-9]{1,19}"

    def __init__(self, map: Map, fixed_digits: int = 0, min: int | None = None,
                 max: int | None = BIGGEST, signed: bool = False) -> None:
        super().__init__(map, fixed_digits, min, max, signed)


class NumberTooBig(ValueError):
    """A JSON integer beyond SQLite's INTEGER."""


def _bounded(literal: str) -> int:
    number = int(literal)
    if not -BIGGEST - 1 <= number <= BIGGEST:
        raise NumberTooBig(f"a number of {len(literal)} digits does not fit the database")
    return number


class JSONProvider(DefaultJSONProvider):
    """Request bodies whose integers fit SQLite's INTEGER: a bigger one, wherever it sits,
    makes the body unreadable (a 400) before any view sees it."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_int", _bounded)
        return json.loads(s, **kwargs)
