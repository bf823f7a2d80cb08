"""Provides the shape of an Auto Reply rule, and the checks that keep a bad one out.

A rule is tried in its place in one ordered list (global rules and a division's own);
it fires when every one of its triggers holds, does its actions, and either stops the
list there (the default: first match) or lets the next rules be tried. Peers run every
matching rule in no order; a supervisor here can say, and test, which one answers.
Rules are plain values: the store keeps them, `matcher.RuleSet` compiles them once, and
nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass

import re2

from appliance.automation.normalise import normalise
from appliance.errors import GembokError
from appliance.store.models import CONVERSATION_STATES

KEYWORD_MODES = ("exact", "contains", "starts_with", "whole_word", "regex")
TRIGGERS = ("keyword", "reply_id", "media", "outside_hours", "first_ever", "first_of_day",
            "waiting")
MEDIA_KINDS = ("image", "audio", "video", "document", "sticker", "location", "contacts")
ACTIONS = ("reply_text", "reply_media", "reply_template", "reply_interactive", "add_label",
           "route_division", "route_agent", "set_status", "note", "notify")
MAX_WORDS = 500  # per trigger: 200 is what the benchmark's rule sets carry
MAX_PATTERN = 500  # characters of one regular expression
TEMPLATE = re2.compile(r"[a-z0-9_]{1,512}(/[A-Za-z_]{2,8})?")
RE2_OPTIONS = re2.Options()
RE2_OPTIONS.case_sensitive = False
RE2_OPTIONS.max_mem = 64 << 20  # enough for 1,000 rules x 200 keywords in one set


class RuleError(GembokError):
    """A rule that cannot be saved: the message says which part and what to do."""


@dataclass(frozen=True)
class Trigger:
    """One condition of a rule.

    `keyword`: any of `words` found in the message by `mode` (compared normalised, see
    `normalise`; `regex` patterns run on the text as written, case-insensitive, in linear
    time). `reply_id`: a button or list reply whose id is one of `words`. `media`: a
    message of one of the kinds in `words`. `outside_hours`, `first_ever`, `first_of_day`:
    as named. `waiting`: no agent has answered for `minutes`.
    """

    kind: str
    words: tuple[str, ...] = ()
    mode: str = "contains"
    minutes: int = 0


@dataclass(frozen=True)
class Action:
    """What a fired rule does: `value` is the text, template, label or status; `target`
    the division or agent (by id)."""

    kind: str
    value: str = ""
    target: int | None = None


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    triggers: tuple[Trigger, ...]
    actions: tuple[Action, ...]
    stop: bool = True
    division_id: int | None = None  # None: every division's conversations
    enabled: bool = True


def check_rule(rule: Rule) -> None:
    """Raises RuleError naming the rule, the part and the fix; returns when it may be saved."""
    where = f"rule “{rule.name or rule.id}”"
    if not rule.name.strip():
        raise RuleError("a rule needs a name, so that conversations can show who answered")
    if not rule.triggers:
        raise RuleError(f"{where} has no trigger: add a keyword, a reply id, a media kind, "
                        "business hours or a first message")
    if not rule.actions:
        raise RuleError(f"{where} does nothing: add an action (a reply, a label, a route)")
    for n, trigger in enumerate(rule.triggers, 1):
        _check_trigger(f"{where}, trigger {n}", trigger)
    for n, action in enumerate(rule.actions, 1):
        _check_action(f"{where}, action {n}", action)


def _check_trigger(where: str, t: Trigger) -> None:
    if t.kind not in TRIGGERS:
        raise RuleError(f"{where}: “{t.kind}” is not a trigger; use one of "
                        + ", ".join(TRIGGERS))
    if t.kind in ("keyword", "reply_id", "media") and not t.words:
        raise RuleError(f"{where}: give at least one {'word' if t.kind == 'keyword' else t.kind}")
    if len(t.words) > MAX_WORDS:
        raise RuleError(f"{where}: {len(t.words)} words is more than {MAX_WORDS}; split the "
                        "rule in two")
    if t.kind == "keyword":
        if t.mode not in KEYWORD_MODES:
            raise RuleError(f"{where}: “{t.mode}” is not a way to match; use one of "
                            + ", ".join(KEYWORD_MODES))
        for word in t.words:
            if t.mode == "regex":
                _check_pattern(where, word)
            elif not normalise(word):
                raise RuleError(f"{where}: “{word}” has no letters or digits to match")
    if t.kind == "media":
        unknown = [w for w in t.words if w not in MEDIA_KINDS]
        if unknown:
            raise RuleError(f"{where}: “{unknown[0]}” is not a media kind; use "
                            + ", ".join(MEDIA_KINDS))
    if t.kind == "waiting" and not 1 <= t.minutes <= 7 * 24 * 60:
        raise RuleError(f"{where}: wait between 1 minute and 7 days (10080 minutes)")


def _check_pattern(where: str, pattern: str) -> None:
    if len(pattern) > MAX_PATTERN:
        raise RuleError(f"{where}: a regular expression of {len(pattern)} characters is "
                        f"more than {MAX_PATTERN}")
    try:
        re2.compile(pattern, options=RE2_OPTIONS)
    except re2.error as exc:
        raise RuleError(f"{where}: the regular expression {pattern!r} does not compile "
                        f"({exc}); look-arounds and back-references are not supported "
                        "(patterns run in linear time)") from None


def _check_action(where: str, a: Action) -> None:
    if a.kind not in ACTIONS:
        raise RuleError(f"{where}: “{a.kind}” is not an action; use one of "
                        + ", ".join(ACTIONS))
    if a.kind in ("reply_text", "reply_media", "reply_template", "add_label", "set_status",
                  "note") \
            and not a.value.strip():
        raise RuleError(f"{where}: “{a.kind}” needs its text")
    if a.kind in ("route_division", "route_agent") and a.target is None:
        raise RuleError(f"{where}: say which {a.kind.removeprefix('route_')} to route to")
    if a.kind == "reply_text" and len(a.value) > 4096:
        raise RuleError(f"{where}: WhatsApp takes at most 4,096 characters in a text")
    if a.kind == "reply_media":
        media_of(a.value, where)
    if a.kind == "set_status" and a.value not in CONVERSATION_STATES:
        raise RuleError(f"{where}: the status is one of " + ", ".join(CONVERSATION_STATES))
    if a.kind == "reply_template" and not TEMPLATE.fullmatch(a.value):
        raise RuleError(f"{where}: name the template as WhatsApp does, with its language "
                        "after a slash, such as order_update/id")
    if a.kind in ("add_label", "note", "notify") and len(a.value) > 400:
        raise RuleError(f"{where}: at most 400 characters")


# A file Auto Reply sends by its address (a price list, a catalogue): WhatsApp fetches it
# from there, so it must be public, over https, of a kind WhatsApp takes by its name.
MEDIA_BY_EXTENSION = {".jpg": "image", ".jpeg": "image", ".png": "image", ".pdf": "document",
                      ".mp4": "video", ".mp3": "audio", ".ogg": "audio"}


def media_of(value: str, where: str = "the reply") -> tuple[str, str, str]:
    """(kind, address, caption) of a `reply_media` action: the address on the first line,
    an optional caption after it; RuleError says what is wrong."""
    link, _, caption = value.strip().partition("\n")
    link, caption = link.strip(), caption.strip()
    path = link.split("?", 1)[0].split("#", 1)[0].lower()
    kind = next((k for ext, k in MEDIA_BY_EXTENSION.items() if path.endswith(ext)), None)
    if not link.startswith("https://") or " " in link or len(link) > 2000:
        raise RuleError(f"{where}: give the file's public address, starting with https://, "
                        "on the first line")
    if kind is None:
        raise RuleError(f"{where}: the address must end in " + ", ".join(MEDIA_BY_EXTENSION)
                        + " (WhatsApp takes pictures, PDFs, MP4 videos and MP3/OGG sound)")
    if len(caption) > 1024:
        raise RuleError(f"{where}: a caption is at most 1,024 characters")
    return kind, link, caption
