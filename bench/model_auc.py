"""Benchmark the committed financial-strength scorecard against Altman's Z''.

Usage (from the repo root)::

    python bench/model_auc.py [DATA_DIR]

DATA_DIR defaults to ../shared/data/polish-bankruptcy relative to the repo root.
Prints ROC AUC on holdout_1y.csv and holdout_5y.csv for the model and for
Altman's Z'' = 6.56 X3 + 3.26 X6 + 6.72 X7 + 1.05 X8 (score = -Z, lower Z is
riskier) on the same rows, and the scorer's throughput. Stdlib only: AUC is the
rank-based Mann-Whitney statistic with average ranks for ties.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "services" / "scoring"))

from creditguard_scoring.financial_model.scorecard import load_scorecard, parse_ratio  # noqa: E402 - after the path set-up above, so the benchmark runs from a checkout

ALTMAN = {"X3": 6.56, "X6": 3.26, "X7": 6.72, "X8": 1.05}


def roc_auc(labels: Sequence[int], scores: Sequence[float]) -> float:
    """ROC AUC via Mann-Whitney U; tied scores get their average rank."""
    order = sorted(range(len(scores)), key=scores.__getitem__)
    ranks = [0.0] * len(scores)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and scores[order[j + 1]] == scores[order[i]]:
            j += 1
        avg = (i + j) / 2.0 + 1.0
        for k in range(i, j + 1):
            ranks[order[k]] = avg
        i = j + 1
    n_pos = sum(1 for y in labels if y == 1)
    n_neg = len(labels) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("AUC needs both classes")
    rank_sum = sum(r for r, y in zip(ranks, labels, strict=True) if y == 1)
    return (rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg)


def altman_z(row: dict[str, str]) -> float | None:
    total = 0.0
    for code, w in ALTMAN.items():
        x = parse_ratio(row.get(code))
        if x is None:
            return None
        total += w * x
    return total


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="AUC of the committed scorecard vs Altman Z''")
    parser.add_argument("data_dir", nargs="?", default=str(REPO_ROOT.parent / "shared" / "data" / "polish-bankruptcy"))
    parser.add_argument("--model", default=None, help="scorecard JSON (default: committed artefact)")
    parser.add_argument(
        "--missing", choices=("learned", "neutral"), default="learned", help="how the model scores missing ratios (default: learned missing bins)"
    )
    args = parser.parse_args(argv)
    card = load_scorecard(args.model)
    print(f"model {card.version}  ({len(card.features)} features, missing={args.missing})")
    print(f"{'file':<16}{'rows':>7}{'bankrupt':>10}{'model AUC':>11}{'Z rows':>8}{'model AUC (Z rows)':>20}{'Altman AUC':>12}")
    total_rows, total_secs = 0, 0.0
    for name in ("holdout_1y.csv", "holdout_5y.csv"):
        path = Path(args.data_dir) / name
        if not path.exists():
            print(f"{name:<16} missing: {path}")
            continue
        with path.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        labels = [int(r["bankrupt"]) for r in rows]
        t0 = time.perf_counter()
        scores = [card.predict_logit(r, args.missing) for r in rows]
        total_secs += time.perf_counter() - t0
        total_rows += len(rows)
        # Altman Z'' is undefined when one of its 4 ratios is missing: compare on the rows where it is.
        z = [(i, v) for i, v in enumerate(altman_z(r) for r in rows) if v is not None]
        keep = [i for i, _ in z]
        auc_model = roc_auc(labels, scores)
        auc_model_z = roc_auc([labels[i] for i in keep], [scores[i] for i in keep])
        auc_altman = roc_auc([labels[i] for i in keep], [-v for _, v in z])
        print(f"{name:<16}{len(rows):>7}{sum(labels):>10}{auc_model:>11.4f}{len(keep):>8}{auc_model_z:>20.4f}{auc_altman:>12.4f}")
    if total_rows:
        # Throughput of the full explanation path too (predict builds the contributions).
        with (Path(args.data_dir) / "holdout_1y.csv").open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        t0 = time.perf_counter()
        for r in rows:
            card.predict(r, args.missing)
        secs_explain = time.perf_counter() - t0
        print(
            f"scorer throughput: {total_rows / total_secs:,.0f} rows/s (predict_logit), "
            f"{len(rows) / secs_explain:,.0f} rows/s (predict with contributions), "
            f"pure Python {sys.version.split()[0]}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
