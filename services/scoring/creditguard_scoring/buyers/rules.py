"""Pure checks on buyer profiles: codes that must come from published standards."""

from __future__ import annotations

import re

# ISO 3166-1 alpha-2, officially assigned codes.
ISO_COUNTRIES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO
JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR
MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO
RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV
TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
""".split())

# NACE Rev. 2: a section letter (A-U) or a two-digit division, optionally with group/class digits.
NACE_CODE = re.compile(r"^(?:[A-U]|\d{2}(?:\.\d{1,2})?)$")

# Divisions per section (NACE Rev. 2), so a division can be rated and compared by its section.
NACE_SECTION_DIVISIONS: tuple[tuple[str, int, int], ...] = (
    ("A", 1, 3), ("B", 5, 9), ("C", 10, 33), ("D", 35, 35), ("E", 36, 39), ("F", 41, 43), ("G", 45, 47),
    ("H", 49, 53), ("I", 55, 56), ("J", 58, 63), ("K", 64, 66), ("L", 68, 68), ("M", 69, 75), ("N", 77, 82),
    ("O", 84, 84), ("P", 85, 85), ("Q", 86, 88), ("R", 90, 93), ("S", 94, 96), ("T", 97, 98), ("U", 99, 99),
)

ADVERSE_EVENT_KINDS = ("insolvency_filing", "court_judgment", "payment_default")


def is_country(code: str) -> bool:
    return code in ISO_COUNTRIES


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
