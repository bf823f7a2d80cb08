"""The core stays a core: no web, terminal or queue framework inside `appliance/`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = sorted((ROOT / "appliance").rglob("*.py"))
FORBIDDEN = {"flask", "flask_login", "flask_wtf", "textual", "dramatiq", "webui", "tui"}
# The one place each framework may appear inside the core, and why.
ALLOWED = {
    "appliance/tasks.py": {"dramatiq"},  # the only dramatiq module: one broker, declared once
}


def imported_roots(path: Path) -> set[str]:
    roots = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_core_module_imports_no_ui_or_queue_framework(path):
    name = str(path.relative_to(ROOT))
    assert not (imported_roots(path) & FORBIDDEN) - ALLOWED.get(name, set())


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_core_module_says_what_it_provides(path):
    doc = ast.get_docstring(ast.parse(path.read_text()))
    assert doc, f"{path.name} has no module docstring"
