"""`docs/security/asvs.md` stays true: one row per ASVS 5.0 level 1 and 2 requirement, each
with a status, every cited test one that pytest collects, every § a section of the file.

Cited tests are found by importing their modules (pytest's own `tests.<dir>.<module>`
names) and looking the function up: a renamed or deleted test fails here, in a second,
rather than leaving the map pointing at nothing. A parametrized id is checked without its
`[...]`.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections import Counter
from functools import cache, lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAP = ROOT / "docs" / "security" / "asvs.md"
STATUSES = ("met", "met (by design, no test)", "n/a", "gap")
TEST_ID = re.compile(r"\b(tests/[\w/]+\.py)::(test_\w+)(\[[^\]\s]*\])?")



def words(block: str) -> list[str]:
    return block.split()


# ASVS 5.0.0 (OWASP/ASVS, 5.0/en): every requirement of level 1 or 2, in the standard's order.
LEVELS_1_AND_2 = words("""
    1.1.1 1.1.2 1.2.1 1.2.2 1.2.3 1.2.4 1.2.5 1.2.6 1.2.7 1.2.8 1.2.9 1.3.1 1.3.2 1.3.3
    1.3.4 1.3.5 1.3.6 1.3.7 1.3.8 1.3.9 1.3.10 1.3.11 1.4.1 1.4.2 1.4.3 1.5.1 1.5.2
    2.1.1 2.1.2 2.1.3 2.2.1 2.2.2 2.2.3 2.3.1 2.3.2 2.3.3 2.3.4 2.4.1
    3.2.1 3.2.2 3.3.1 3.3.2 3.3.3 3.3.4 3.4.1 3.4.2 3.4.3 3.4.4 3.4.5 3.4.6 3.5.1 3.5.2
    3.5.3 3.5.4 3.5.5 3.7.1 3.7.2
    4.1.1 4.1.2 4.1.3 4.2.1 4.3.1 4.3.2 4.4.1 4.4.2 4.4.3 4.4.4
    5.1.1 5.2.1 5.2.2 5.2.3 5.3.1 5.3.2 5.4.1 5.4.2 5.4.3
    6.1.1 6.1.2 6.1.3 6.2.1 6.2.2 6.2.3 6.2.4 6.2.5 6.2.6 6.2.7 6.2.8 6.2.9 6.2.10 6.2.11
    6.2.12 6.3.1 6.3.2 6.3.3 6.3.4 6.4.1 6.4.2 6.4.3 6.4.4 6.5.1 6.5.2 6.5.3 6.5.4 6.5.5
    6.6.1 6.6.2 6.6.3 6.8.1 6.8.2 6.8.3 6.8.4
    7.1.1 7.1.2 7.1.3 7.2.1 7.2.2 7.2.3 7.2.4 7.3.1 7.3.2 7.4.1 7.4.2 7.4.3 7.4.4 7.4.5
    7.5.1 7.5.2 7.6.1 7.6.2
    8.1.1 8.1.2 8.2.1 8.2.2 8.2.3 8.3.1 8.4.1
    9.1.1 9.1.2 9.1.3 9.2.1 9.2.2 9.2.3 9.2.4
    10.1.1 10.1.2 10.2.1 10.2.2 10.3.1 10.3.2 10.3.3 10.3.4 10.4.1 10.4.2 10.4.3 10.4.4
    10.4.5 10.4.6 10.4.7 10.4.8 10.4.9 10.4.10 10.4.11 10.5.1 10.5.2 10.5.3 10.5.4 10.5.5
    10.6.1 10.6.2 10.7.1 10.7.2 10.7.3
    11.1.1 11.1.2 11.2.1 11.2.2 11.2.3 11.3.1 11.3.2 11.3.3 11.4.1 11.4.2 11.4.3 11.4.4
    11.5.1 11.6.1
    12.1.1 12.1.2 12.1.3 12.2.1 12.2.2 12.3.1 12.3.2 12.3.3 12.3.4
    13.1.1 13.2.1 13.2.2 13.2.3 13.2.4 13.2.5 13.3.1 13.3.2 13.4.1 13.4.2 13.4.3 13.4.4
    13.4.5
    14.1.1 14.1.2 14.2.1 14.2.2 14.2.3 14.2.4 14.3.1 14.3.2 14.3.3
    15.1.1 15.1.2 15.1.3 15.2.1 15.2.2 15.2.3 15.3.1 15.3.2 15.3.3 15.3.4 15.3.5 15.3.6
    15.3.7
    16.1.1 16.2.1 16.2.2 16.2.3 16.2.4 16.2.5 16.3.1 16.3.2 16.3.3 16.3.4 16.4.1 16.4.2
    16.4.3 16.5.1 16.5.2 16.5.3
    17.1.1 17.2.1 17.2.2 17.2.3 17.2.4 17.3.1 17.3.2
""")
LEVEL_1 = set(words("""
    1.2.1 1.2.2 1.2.3 1.2.4 1.2.5 1.3.1 1.3.2 1.5.1 2.1.1 2.2.1 2.2.2 2.3.1 3.2.1 3.2.2
    3.3.1 3.4.1 3.4.2 3.5.1 3.5.2 3.5.3 4.1.1 4.4.1 5.2.1 5.2.2 5.3.1 5.3.2 6.1.1 6.2.1
    6.2.2 6.2.3 6.2.4 6.2.5 6.2.6 6.2.7 6.2.8 6.3.1 6.3.2 6.4.1 6.4.2 7.2.1 7.2.2 7.2.3
    7.2.4 7.4.1 7.4.2 8.1.1 8.2.1 8.2.2 8.3.1 9.1.1 9.1.2 9.1.3 9.2.1 10.4.1 10.4.2 10.4.3
    10.4.4 10.4.5 11.3.1 11.3.2 11.4.1 12.1.1 12.2.1 12.2.2 13.4.1 14.2.1 14.3.1 15.1.1
    15.2.1 15.3.1
"""))


class Row:
    def __init__(self, line_no: int, chapter: str, cells: list[str]) -> None:
        self.line_no, self.chapter = line_no, chapter
        self.id, self.requirement, self.status, self.evidence = cells

    def __repr__(self) -> str:
        return f"asvs.md:{self.line_no} {self.id}"


@lru_cache(maxsize=1)
def text() -> str:
    return MAP.read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def rows() -> tuple[Row, ...]:
    found, chapter = [], ""
    for n, line in enumerate(text().splitlines(), 1):
        if m := re.match(r"## (V\d+) ", line):
            chapter = m.group(1)
        if re.match(r"\| \d+\.\d+\.\d+ \|", line):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            assert len(cells) == 4, f"asvs.md:{n} has {len(cells)} cells, not 4: {line[:80]}"
            found.append(Row(n, chapter, cells))
    return tuple(found)


def gap_list() -> str:
    return text().split("\n## Gaps\n", 1)[1]


@cache
def collected(path: str, name: str) -> bool:
    """Whether pytest would collect `name` from `path`: a module-level test function."""
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    found = getattr(module, name, None)
    return inspect.isfunction(found) and found.__module__ == module.__name__


def test_every_requirement_of_levels_1_and_2_has_one_row_in_order():
    ids = [row.id for row in rows()]
    assert [i for i, n in Counter(ids).items() if n > 1] == [], "one row per requirement"
    assert set(LEVELS_1_AND_2) - set(ids) == set(), "requirements without a row"
    assert set(ids) - set(LEVELS_1_AND_2) == set(), "rows that are not ASVS 5.0 L1/L2"
    assert ids == LEVELS_1_AND_2, "rows in the standard's order"
    for row in rows():
        assert row.chapter == "V" + row.id.split(".")[0], f"{row} is under {row.chapter}"
        level = "(L1)" if row.id in LEVEL_1 else "(L2)"
        assert row.requirement.endswith(level), f"{row}: the requirement ends with {level}"


def test_every_row_has_a_status_and_evidence():
    for row in rows():
        assert row.status in STATUSES, f"{row}: status {row.status!r} is not one of {STATUSES}"
        assert len(row.evidence) >= 10, f"{row}: say why"


def test_every_met_row_cites_a_test():
    bare = [row for row in rows() if row.status == "met" and not TEST_ID.search(row.evidence)]
    assert bare == [], "a requirement without a test is not met"


def test_every_cited_test_exists():
    cited = {(m.group(1), m.group(2)) for m in TEST_ID.finditer(text())}
    assert len(cited) > 100
    missing = sorted(f"{path}::{name}" for path, name in cited
                     if not (ROOT / path).is_file() or not collected(path, name))
    assert missing == [], "cited tests that pytest does not collect"


def test_every_section_a_row_cites_exists():
    headings = sorted(re.findall(r"^### (.+)$", text(), re.M), key=len, reverse=True)
    cited, unknown = set(), []
    for at in (m.end() for m in re.finditer("§ ", text())):
        named = next((h for h in headings if text().startswith(h, at)), None)
        if named is None:
            unknown.append(text()[at:at + 30])
        else:
            cited.add(named)
    assert unknown == [], "§ names a section that is not in the file"
    assert len(cited) >= 10, "the documentation rows point at sections"
    for heading in cited:
        body = text().split(f"\n### {heading}\n", 1)[1].split("\n#", 1)[0]
        assert len(body.split()) >= 40, f"§ {heading} says too little to count as documentation"


def test_every_gap_is_in_the_gap_list():
    listed = set(re.findall(r"\b\d+\.\d+\.\d+\b", gap_list()))
    unlisted = [row for row in rows() if row.status == "gap" and row.id not in listed]
    assert unlisted == []
    not_gaps = {row.id for row in rows() if row.status != "gap"} & listed
    assert not_gaps == set(), "the gap list names requirements whose row is not a gap"


def test_the_counts_at_the_top_match_the_rows():
    counted = Counter(row.status for row in rows())
    said = re.search(r"\*\*met (\d+)\*\* \(of which by design, no test: (\d+)\),\s+"
                     r"\*\*n/a (\d+)\*\*, \*\*gap (\d+)\*\*", text())
    assert said, "the counts line is missing"
    met, by_design, na, gap = map(int, said.groups())
    assert (met, by_design, na, gap) == (
        counted["met"] + counted["met (by design, no test)"],
        counted["met (by design, no test)"], counted["n/a"], counted["gap"])
    assert met + na + gap == len(LEVELS_1_AND_2)


@pytest.mark.parametrize("status", ["n/a", "gap", "met (by design, no test)"])
def test_rows_that_are_not_met_say_why_in_words(status):
    for row in rows():
        if row.status == status:
            words = TEST_ID.sub("", row.evidence)
            assert len(words.split()) >= 2, f"{row}: say why, not only which test"
