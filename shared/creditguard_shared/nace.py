"""NACE Rev. 2 industry codes: the hierarchy scoring rates industries by and alerts groups
concentration by (section letter, two-digit division, then group and class digits)."""

from __future__ import annotations

import re

# A section letter (A-U) or a two-digit division, optionally with group/class digits.
NACE_CODE = re.compile(r"^(?:[A-U]|\d{2}(?:\.\d{1,2})?)$")

# Divisions per section, so a division can be rated and compared by its section.
NACE_SECTION_DIVISIONS: tuple[tuple[str, int, int], ...] = (
    ("A", 1, 3),
    ("B", 5, 9),
    ("C", 10, 33),
    ("D", 35, 35),
    ("E", 36, 39),
    ("F", 41, 43),
    ("G", 45, 47),
    ("H", 49, 53),
    ("I", 55, 56),
    ("J", 58, 63),
    ("K", 64, 66),
    ("L", 68, 68),
    ("M", 69, 75),
    ("N", 77, 82),
    ("O", 84, 84),
    ("P", 85, 85),
    ("Q", 86, 88),
    ("R", 90, 93),
    ("S", 94, 96),
    ("T", 97, 98),
    ("U", 99, 99),
)


def nace_section(industry: str | None) -> str | None:
    """The section letter of a NACE code, or None when the code names no known division."""
    if not industry:
        return None
    if industry[0].isalpha():
        return industry[0]
    division = int(industry[:2])
    for section, first, last in NACE_SECTION_DIVISIONS:
        if first <= division <= last:
            return section
    return None


def nace_division(industry: str | None) -> str | None:
    return industry[:2] if industry and industry[0].isdigit() else None
