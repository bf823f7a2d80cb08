"""Provides the routing menu as WhatsApp shows it: its checks, its pages, its answers.

A new conversation that no rule answered gets the menu: "which division do you need?".
One or two choices (with "talk to a person", always there) go out as reply buttons,
up to nine as one list, more as pages of eight with "more choices" (Meta's limits,
cloud-api.md section 11: 3 buttons of 20 characters, a list of 10 rows of 24, each row's
description 72, the body 1,024 for buttons). Every limit is checked when the menu is
saved, so a menu that Meta would refuse is never sent. A customer answers by tapping, or
by writing a choice's number or words ("2", "tagihan"); "0" or "petugas" is a person.

"Talk to a person" is never missing (UU PDP Pasal 10: a customer can always refuse a
decision made by automation alone). Pure: `menu_book` keeps menus, `auto_reply` sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.automation.normalise import normalise
from appliance.automation.rules import RuleError

TITLE_MAX = 20  # a button's title; a list row's is 24, which leaves room for "10. "
DESCRIPTION_MAX = 72
BODY_MAX = 1024
BUTTON_CHOICES = 2  # with the person: 3 buttons, Meta's most
LIST_CHOICES = 9  # with the person: 10 rows, Meta's most
PAGE_CHOICES = 8  # with the person and "more": 10 rows
MAX_CHOICES = 40  # five pages: a longer menu is a maze, not a menu
PERSON_WORDS = ("0", "petugas", "agen", "manusia", "orang", "cs", "operator", "admin",
                "person", "human", "agent")
PERSON = {"id": "Hubungi petugas", "en": "Talk to a person"}
MORE = {"id": "Pilihan lainnya", "en": "More choices"}
PICK = {"id": "Pilih", "en": "Choose"}
HINT = {"id": "Ketuk pilihan, atau balas dengan nomornya.",
        "en": "Tap a choice, or reply with its number."}


@dataclass(frozen=True)
class Choice:
    division_id: int
    title_id: str
    title_en: str = ""
    description_id: str = ""
    description_en: str = ""
    words: tuple[str, ...] = ()  # more words that choose it in a written answer

    def title(self, language: str) -> str:
        return (self.title_en if language == "en" else "") or self.title_id

    def description(self, language: str) -> str:
        return (self.description_en if language == "en" else "") or self.description_id


@dataclass(frozen=True)
class Menu:
    enabled: bool = False
    body_id: str = ""
    body_en: str = ""
    choices: tuple[Choice, ...] = ()
    default_division_id: int | None = None  # no answer in time, or a person asked for
    timeout_minutes: int = 10

    def body(self, language: str) -> str:
        return (self.body_en if language == "en" else "") or self.body_id


NO_MENU = Menu()


@dataclass(frozen=True)
class Answer:
    """What a customer's answer to the menu means: a choice, a person, or another page."""

    kind: str  # choice, person, page
    choice: Choice | None = None
    page: int = 0


def check_menu(menu: Menu) -> None:
    """Raises RuleError saying which part breaks which of WhatsApp's limits."""
    if not menu.enabled and not menu.choices:
        return
    if not menu.body_id.strip():
        raise RuleError("the menu needs its question in Indonesian, such as “Ada yang bisa "
                        "kami bantu? Pilih bagian yang Anda perlukan.”")
    for name, body in (("Indonesian", menu.body_id), ("English", menu.body_en)):
        if len(body) > BODY_MAX:
            raise RuleError(f"the menu's {name} question has {len(body):,} characters: "
                            f"WhatsApp takes at most {BODY_MAX:,}")
    if not menu.choices:
        raise RuleError("the menu needs at least one choice")
    if len(menu.choices) > MAX_CHOICES:
        raise RuleError(f"{len(menu.choices)} choices is more than {MAX_CHOICES}: group them")
    seen: set[str] = set()
    for n, c in enumerate(menu.choices, 1):
        where = f"choice {n}"
        if not c.title_id.strip():
            raise RuleError(f"{where} needs its Indonesian title")
        for label, text, limit in (("Indonesian title", c.title_id, TITLE_MAX),
                                   ("English title", c.title_en, TITLE_MAX),
                                   ("Indonesian description", c.description_id, DESCRIPTION_MAX),
                                   ("English description", c.description_en, DESCRIPTION_MAX)):
            if len(text) > limit:
                raise RuleError(f"{where}: the {label} “{text}” has {len(text)} characters; "
                                f"WhatsApp shows at most {limit}")
        key = normalise(c.title_id)
        if key in seen:
            raise RuleError(f"{where}: “{c.title_id}” is a title twice")
        seen.add(key)
    if not 1 <= menu.timeout_minutes <= 24 * 60:
        raise RuleError("the default division takes over after 1 minute to 24 hours "
                        "(1440 minutes)")


def page_count(menu: Menu) -> int:
    n = len(menu.choices)
    if n <= LIST_CHOICES:
        return 1
    return -(-n // PAGE_CHOICES)


def interactive(menu: Menu, page: int, language: str) -> dict[str, Any]:
    """The `interactive` object of page `page` (from 1), as the Cloud API takes it."""
    lang = language if language in ("id", "en") else "id"
    body = f"{menu.body(lang)}\n\n{HINT[lang]}"[:BODY_MAX]
    person = {"id": "menu:person", "title": PERSON[lang]}
    if len(menu.choices) <= BUTTON_CHOICES:
        buttons = [{"type": "reply", "reply": {"id": f"menu:c:{n}", "title": c.title(lang)}}
                   for n, c in enumerate(menu.choices, 1)]
        buttons.append({"type": "reply", "reply": person})
        return {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}}
    pages = page_count(menu)
    page = min(max(page, 1), pages)
    size = LIST_CHOICES if pages == 1 else PAGE_CHOICES
    first = (page - 1) * size
    rows: list[dict[str, str]] = []
    for n, c in enumerate(menu.choices[first:first + size], first + 1):
        row = {"id": f"menu:c:{n}", "title": f"{n}. {c.title(lang)}"}
        if c.description(lang):
            row["description"] = c.description(lang)
        rows.append(row)
    rows.append({"id": "menu:person", "title": f"0. {PERSON[lang]}"[:24]})
    if page < pages:
        rows.append({"id": f"menu:page:{page + 1}", "title": MORE[lang]})
    return {"type": "list", "body": {"text": body},
            "action": {"button": PICK[lang], "sections": [{"rows": rows}]}}


def shown_text(menu: Menu, page: int, language: str) -> str:
    """What the conversation shows of a menu page: its question and its choices."""
    content = interactive(menu, page, language)
    if content["type"] == "button":
        titles = [b["reply"]["title"] for b in content["action"]["buttons"]]
    else:
        titles = [r["title"] for r in content["action"]["sections"][0]["rows"]]
    return menu.body(language) + "\n" + "\n".join(f"• {t}" for t in titles)


def answer(menu: Menu, *, reply_id: str | None, text: str) -> Answer | None:
    """What the customer chose, by a tapped id or by what they wrote; None: no choice."""
    if reply_id and reply_id.startswith("menu:"):
        return _by_id(menu, reply_id)
    said = normalise(text)
    if not said:
        return None
    if said.isdigit():
        n = int(said)
        if n == 0:
            return Answer("person")
        return Answer("choice", menu.choices[n - 1]) if n <= len(menu.choices) else None
    words = said.split()
    if any(w in PERSON_WORDS for w in words):
        return Answer("person")
    for c in menu.choices:
        names = [normalise(c.title_id), normalise(c.title_en), *map(normalise, c.words)]
        if any(name and (said == name or f" {name} " in f" {said} ") for name in names):
            return Answer("choice", c)
    return None


def _by_id(menu: Menu, reply_id: str) -> Answer | None:
    parts = reply_id.split(":")
    if parts == ["menu", "person"]:
        return Answer("person")
    if len(parts) == 3 and parts[2].isdigit():
        n = int(parts[2])
        if parts[1] == "c" and 1 <= n <= len(menu.choices):
            return Answer("choice", menu.choices[n - 1])
        if parts[1] == "page" and 1 <= n <= page_count(menu):
            return Answer("page", page=n)
    return None


def as_json(menu: Menu) -> dict[str, Any]:
    return {"enabled": menu.enabled, "body_id": menu.body_id, "body_en": menu.body_en,
            "default_division_id": menu.default_division_id,
            "timeout_minutes": menu.timeout_minutes,
            "choices": [{"division_id": c.division_id, "title_id": c.title_id,
                         "title_en": c.title_en, "description_id": c.description_id,
                         "description_en": c.description_en, "words": list(c.words)}
                        for c in menu.choices]}


def from_json(data: dict[str, Any]) -> Menu:
    """A menu from its JSON (as stored, or as a form sends it); RuleError names what is
    missing or of the wrong kind."""
    try:
        default = data.get("default_division_id")
        return Menu(
            enabled=bool(data.get("enabled", False)), body_id=str(data.get("body_id", "")),
            body_en=str(data.get("body_en", "")),
            default_division_id=None if default in (None, "") else int(default),
            timeout_minutes=int(data.get("timeout_minutes", 10)),
            choices=tuple(Choice(int(c["division_id"]), str(c.get("title_id", "")),
                                 str(c.get("title_en", "")), str(c.get("description_id", "")),
                                 str(c.get("description_en", "")),
                                 tuple(str(w) for w in c.get("words", ()) if str(w).strip()))
                          for c in data.get("choices", ())))
    except (KeyError, TypeError, ValueError, AttributeError):
        raise RuleError("the menu is not in the expected form: each choice needs a "
                        "division and a title; the timeout is a number of minutes") from None
