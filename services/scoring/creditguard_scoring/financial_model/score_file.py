"""Score a CSV of financial ratios with the committed scorecard.

Usage::

    python -m creditguard_scoring.financial_model.score_file IN.csv OUT.csv [--model PATH]

IN is in the Polish-bankruptcy data set's format: a ``company`` column and the
ratio columns ``X1``..``X64`` (extra columns such as ``bankrupt`` are ignored;
empty cells or ``?`` mean missing). OUT gets ``company,pd`` with the raw-model
PD (training base rate); ``--base-rate R`` prior-shifts it to a portfolio base
rate; ``--missing neutral`` scores missing ratios as average (contribution 0)
instead of with their learned missing bin. Stdlib only.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from .scorecard import MISSING_POLICIES, Scorecard, load_scorecard


def score_rows(scorecard: Scorecard, rows: Iterable[dict[str, str]], base_rate: float | None = None, missing: str = "learned") -> Iterator[tuple[str, float]]:
    """Yield (company, pd) for each CSV row (a dict of column -> text)."""
    for row in rows:
        pd = scorecard.predict_pd(row, missing)
        if base_rate is not None:
            pd = scorecard.recalibrate(pd, base_rate)
        yield row.get("company", ""), pd


def score_file(in_path: str | Path, out_path: str | Path, scorecard: Scorecard | None = None, base_rate: float | None = None, missing: str = "learned") -> int:
    """Score IN and write OUT; returns the number of rows written."""
    card = scorecard if scorecard is not None else load_scorecard()
    n = 0
    with open(in_path, newline="", encoding="utf-8") as fin, open(out_path, "w", newline="", encoding="utf-8") as fout:
        reader = csv.DictReader(fin)
        if reader.fieldnames is None or "company" not in reader.fieldnames:
            raise ValueError(f"{in_path}: expected a header with a 'company' column")
        absent = [c for c in card.features if c not in reader.fieldnames]
        if len(absent) == len(card.features):
            raise ValueError(f"{in_path}: none of the model's ratio columns is present")
        writer = csv.writer(fout, lineterminator="\n")
        writer.writerow(["company", "pd"])
        for company, pd in score_rows(card, reader, base_rate, missing):
            writer.writerow([company, repr(pd)])
            n += 1
    return n


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", help="CSV with company, X1..X64")
    parser.add_argument("output", help="CSV to write: company,pd")
    parser.add_argument("--model", default=None, help="scorecard JSON (default: committed artefact)")
    parser.add_argument("--base-rate", type=float, default=None, help="prior-shift the PD to this portfolio base rate (0 < r < 1)")
    parser.add_argument("--missing", choices=MISSING_POLICIES, default="learned", help="how missing ratios are scored (default: learned missing bins)")
    args = parser.parse_args(argv)
    if args.base_rate is not None and not 0.0 < args.base_rate < 1.0:
        parser.error("--base-rate must be strictly between 0 and 1")
    card = load_scorecard(args.model)
    n = score_file(args.input, args.output, card, args.base_rate, args.missing)
    print(f"scored {n} rows with model {card.version} -> {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
