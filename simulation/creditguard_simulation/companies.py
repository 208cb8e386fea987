"""The real companies a simulated book is drawn from: one row per company-year of the Polish
bankruptcy data (UCI, CC BY 4.0; shipped in data/, see its README) with its 64 ratios X1..X64
and whether it went bankrupt."""

from __future__ import annotations

import csv
import gzip
import io
from dataclasses import dataclass
from pathlib import Path

RATIO_CODES: tuple[str, ...] = tuple(f"X{i}" for i in range(1, 65))
# Shipped with the package, so a fresh clone of the repository runs the simulation on its own.
DEFAULT_DATA_PATH = Path(__file__).resolve().parent / "data" / "polish_companies_1y.csv.gz"


@dataclass(frozen=True)
class Company:
    company_id: str
    ratios: dict[str, float | None]
    bankrupt: bool


def _value(cell: str) -> float | None:
    return float(cell) if cell.strip() else None


def _open(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path), newline="")
    return path.open(newline="")


def load_companies(path: Path) -> list[Company]:
    """A CSV file of company, X1..X64, bankrupt (gzip-compressed when its name ends in .gz)."""
    with _open(path) as handle:
        return [
            Company(
                company_id=row["company"],
                ratios={code: _value(row[code]) for code in RATIO_CODES},
                bankrupt=row["bankrupt"].strip() == "1",
            )
            for row in csv.DictReader(handle)
        ]


def resolve_data_path(path: Path, *, repo_root: Path) -> Path:
    """A relative path is read from the repository root, so the default works from any directory."""
    return path if path.is_absolute() else (repo_root / path).resolve()
