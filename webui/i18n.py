"""Provides the UI's languages: Indonesian by default, English by choice, per user."""

from __future__ import annotations

from pathlib import Path

from flask import g

LANGUAGES = ("id", "en")
TRANSLATIONS = Path(__file__).parent / "translations"


def locale() -> str:
    """The signed-in user's language; Indonesian for everyone else."""
    found = getattr(g, "gembok_current", None)
    language = found.user.language if found is not None else ""
    return language if language in LANGUAGES else "id"
