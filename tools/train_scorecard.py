"""Train the additive financial-strength scorecard (12-month PD) and export it to JSON.

Usage (from the repo root, in an environment with the scoring package installed)::

    python tools/train_scorecard.py --data train_1y.csv \\
        --out services/scoring/creditguard_scoring/financial_model/scorecard.json

Training-only dependencies (tools/requirements-train.txt): numpy, pandas, scikit-learn,
interpret. They are not part of the services' lock, so the service image carries none of them. The exported artefact is scored by ``scorecard.py`` with the
standard library only.

The default model (chosen by 5-fold CV on the training file) is an Explainable Boosting
Machine (interpret) with one step function per ratio, a dedicated missing bin per
ratio, and 10 pairwise terms exported as 2-D tables. The exporter can also blend in
bagged gradient boosting on stumps (scikit-learn ``HistGradientBoostingClassifier``
with 2 leaves per tree; ``--hgb-seeds N --ebm-weight W``) and can drop the pairs
(``--interactions 0``, purely additive). Every component is a sum of per-ratio step
functions (plus pair tables), so the blend is one too. The exporter takes the union of
the components' thresholds for each ratio and combines the functions on the resulting
bins. This is exact, not an approximation.

Only the file given by ``--data`` is read. Hyper-parameters were chosen by 5-fold
stratified cross-validation on that file; ``--cv-folds`` re-runs the cross-validation
of the full pipeline (train -> export -> pure-Python-equivalent scoring) and records
the AUC in the artefact's metadata.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import json
import math
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from creditguard_scoring.financial_model.ratio_definitions import RATIO_CODES, RATIO_DEFINITIONS
from creditguard_scoring.financial_model.scorecard import ARTEFACT_FORMAT, scorecard_from_dict

REPO_ROOT = Path(__file__).resolve().parents[4]
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data" / "polish-bankruptcy" / "train_1y.csv"
DEFAULT_OUT = Path(__file__).with_name("scorecard.json")
MODEL_NAME = "financial-strength-additive"
ROUND_DIGITS = 6  # scores are stored in logit points rounded to 1e-6


@dataclass(frozen=True)
class HyperParams:
    seed: int = 20261128
    # bagged boosted stumps (HistGradientBoostingClassifier, 2 leaves per tree)
    hgb_seeds: int = 0  # 0: EBM only (5-fold CV preferred the EBM with interactions alone)
    hgb_learning_rate: float = 0.05
    hgb_max_iter: int = 600
    hgb_max_features: float = 0.5
    hgb_l2_regularization: float = 0.0
    hgb_min_samples_leaf: int = 20
    hgb_max_bins: int = 255
    # Explainable Boosting Machine, main effects only
    ebm_weight: float = 1.0  # share of the EBM in the logit blend (0 = HGB only)
    ebm_interactions: int = 10  # pairwise terms (exported as 2-D tables); 0 = purely additive
    ebm_max_bins: int = 256
    ebm_outer_bags: int = 14
    ebm_learning_rate: float = 0.015
    ebm_min_samples_leaf: int = 4
    ebm_smoothing_rounds: int = 75
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d.pop("extra")
        d.update(self.extra)
        return d


# --------------------------------------------------------------------------- data


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load_training_data(path: Path) -> tuple[pd.DataFrame, np.ndarray]:
    df = pd.read_csv(path, na_values=["?", ""], keep_default_na=True)
    missing_cols = [c for c in (*RATIO_CODES, "bankrupt") if c not in df.columns]
    if missing_cols:
        raise SystemExit(f"{path}: missing columns {missing_cols}")
    X = df[list(RATIO_CODES)].astype(float)
    X = X.replace([np.inf, -np.inf], np.nan)
    y = df["bankrupt"].astype(int).to_numpy()
    return X, y


# --------------------------------------------------------- additive representation
# A shape is (thresholds ascending, scores[len+1], missing_score) with the scorer's
# convention: bin = number of thresholds strictly below x (x <= t goes to the lower bin).


@dataclass
class Shape:
    thresholds: np.ndarray
    scores: np.ndarray
    missing: float

    def eval(self, x: np.ndarray) -> np.ndarray:
        out = np.empty(len(x), dtype=float)
        nan = np.isnan(x)
        out[nan] = self.missing
        out[~nan] = self.scores[np.searchsorted(self.thresholds, x[~nan], side="left")]
        return out


@dataclass
class Pair:
    """2-D table; index 0 = missing, 1 + searchsorted(left) otherwise (scorer's rule)."""

    codes: tuple[str, str]
    thresholds_a: np.ndarray
    thresholds_b: np.ndarray
    table: np.ndarray  # (len(ta) + 2, len(tb) + 2)

    def eval(self, xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
        def idx(x: np.ndarray, t: np.ndarray) -> np.ndarray:
            out = np.zeros(len(x), dtype=int)
            ok = ~np.isnan(x)
            out[ok] = 1 + np.searchsorted(t, x[ok], side="left")
            return out

        return self.table[idx(xa, self.thresholds_a), idx(xb, self.thresholds_b)]


@dataclass
class Additive:
    intercept: float
    shapes: dict[str, Shape]
    pairs: list[Pair] = field(default_factory=list)

    def logit(self, X: pd.DataFrame) -> np.ndarray:
        z = np.full(len(X), self.intercept, dtype=float)
        for code, shape in self.shapes.items():
            z += shape.eval(X[code].to_numpy(dtype=float))
        for pair in self.pairs:
            a, b = pair.codes
            z += pair.eval(X[a].to_numpy(dtype=float), X[b].to_numpy(dtype=float))
        return z


def constant_shape(value: float = 0.0) -> Shape:
    return Shape(np.empty(0), np.array([value]), value)


def blend(models: Sequence[Additive], weights: Sequence[float], codes: Sequence[str]) -> Additive:
    """Weighted sum of additive models, exactly, on the union of their thresholds."""
    shapes: dict[str, Shape] = {}
    for code in codes:
        parts = [m.shapes.get(code, constant_shape()) for m in models]
        cuts = np.unique(np.concatenate([p.thresholds for p in parts]))
        # representative point of each bin: the bin's upper (inclusive) threshold, +inf for the last
        reps = np.concatenate([cuts, [np.inf]])
        scores = sum(w * p.eval(reps) for w, p in zip(weights, parts, strict=True))
        missing = sum(w * p.missing for w, p in zip(weights, parts, strict=True))
        shapes[code] = Shape(cuts, np.asarray(scores, dtype=float), float(missing))
    intercept = sum(w * m.intercept for w, m in zip(weights, models, strict=True))
    pairs = [Pair(p.codes, p.thresholds_a, p.thresholds_b, w * p.table) for w, m in zip(weights, models, strict=True) for p in m.pairs]
    return Additive(float(intercept), shapes, pairs)


def simplify(shape: Shape, digits: int = ROUND_DIGITS) -> Shape:
    """Round scores and merge neighbouring bins whose scores became equal."""
    scores = np.round(shape.scores, digits)
    keep_cut = scores[1:] != scores[:-1]
    cuts = shape.thresholds[keep_cut]
    merged = np.concatenate([[scores[0]], scores[1:][keep_cut]]) if len(scores) else scores
    return Shape(cuts, merged, float(np.round(shape.missing, digits)))


# ---------------------------------------------------------------- learners


def fit_hgb_stumps(X: pd.DataFrame, y: np.ndarray, hp: HyperParams, seed: int) -> Additive:
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        max_leaf_nodes=2,
        max_depth=None,
        learning_rate=hp.hgb_learning_rate,
        max_iter=hp.hgb_max_iter,
        max_features=hp.hgb_max_features,
        l2_regularization=hp.hgb_l2_regularization,
        min_samples_leaf=hp.hgb_min_samples_leaf,
        max_bins=hp.hgb_max_bins,
        early_stopping=False,
        random_state=seed,
    )
    model.fit(X, y)
    codes = list(X.columns)
    intercept = float(np.ravel(model._baseline_prediction)[0])
    # per feature: list of (threshold, left value, right value, missing goes left)
    stumps: dict[str, list[tuple[float, float, float, bool]]] = {c: [] for c in codes}
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        root = nodes[0]
        if root["is_leaf"]:
            intercept += float(root["value"])
            continue
        left, right = nodes[root["left"]], nodes[root["right"]]
        if not (left["is_leaf"] and right["is_leaf"]):
            raise RuntimeError("expected stumps (2 leaves per tree)")
        stumps[codes[int(root["feature_idx"])]].append(
            (float(root["num_threshold"]), float(left["value"]), float(right["value"]), bool(root["missing_go_to_left"]))
        )
    shapes: dict[str, Shape] = {}
    for code, items in stumps.items():
        if not items:
            continue
        cuts = np.unique([t for t, *_ in items])
        reps = np.concatenate([cuts, [np.inf]])
        scores = np.zeros(len(reps))
        missing = 0.0
        for t, lv, rv, miss_left in items:
            scores += np.where(reps <= t, lv, rv)  # x <= threshold goes left in sklearn
            missing += lv if miss_left else rv
        shapes[code] = Shape(cuts, scores, missing)
    return Additive(intercept, shapes)


def fit_ebm(X: pd.DataFrame, y: np.ndarray, hp: HyperParams, seed: int) -> Additive:
    from interpret.glassbox import ExplainableBoostingClassifier

    model = ExplainableBoostingClassifier(
        interactions=hp.ebm_interactions,
        max_bins=hp.ebm_max_bins,
        outer_bags=hp.ebm_outer_bags,
        learning_rate=hp.ebm_learning_rate,
        min_samples_leaf=hp.ebm_min_samples_leaf,
        smoothing_rounds=hp.ebm_smoothing_rounds,
        feature_types=["continuous"] * X.shape[1],
        random_state=seed,
        n_jobs=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "missing values detected": handled as their own bin
        model.fit(X, y)
    shapes: dict[str, Shape] = {}
    pairs: list[Pair] = []
    for term, feats in enumerate(model.term_features_):
        ts = np.asarray(model.term_scores_[term], dtype=float)
        # term_scores_: [missing, bin 0 .. bin len(cuts), unseen] per dimension; EBM puts
        # x == cut in the upper bin, the scorer in the lower one: shift cuts down one ulp.
        if len(feats) == 1:
            (feat_idx,) = feats
            cuts = np.asarray(model.bins_[feat_idx][0], dtype=float)
            shapes[X.columns[feat_idx]] = Shape(np.nextafter(cuts, -np.inf), ts[1:-1].copy(), float(ts[0]))
        elif len(feats) == 2:
            cuts = []
            for f in feats:
                levels = model.bins_[f]
                cuts.append(np.nextafter(np.asarray(levels[1 if len(levels) > 1 else 0], dtype=float), -np.inf))
            pairs.append(Pair((X.columns[feats[0]], X.columns[feats[1]]), cuts[0], cuts[1], ts[:-1, :-1].copy()))
        else:  # pragma: no cover
            raise RuntimeError("only main effects and pairs are supported")
    return Additive(float(np.ravel(model.intercept_)[0]), shapes, pairs)


def fit_additive(X: pd.DataFrame, y: np.ndarray, hp: HyperParams) -> Additive:
    codes = list(X.columns)
    parts: list[Additive] = []
    weights: list[float] = []
    n_hgb = hp.hgb_seeds
    hgb_w = (1.0 - hp.ebm_weight) / n_hgb if n_hgb else 0.0
    for i in range(n_hgb):
        parts.append(fit_hgb_stumps(X, y, hp, hp.seed + i))
        weights.append(hgb_w)
    if hp.ebm_weight > 0:
        parts.append(fit_ebm(X, y, hp, hp.seed))
        weights.append(hp.ebm_weight)
    model = blend(parts, weights, codes)
    model.shapes = {c: simplify(s) for c, s in model.shapes.items()}
    for p in model.pairs:
        p.table = np.round(p.table, ROUND_DIGITS)
    model.intercept = round(model.intercept, ROUND_DIGITS)
    return model


# ---------------------------------------------------------------- metrics


def auc(y: np.ndarray, s: np.ndarray) -> float:
    from scipy.stats import rankdata

    r = rankdata(s)
    pos = y == 1
    n1, n0 = int(pos.sum()), int((~pos).sum())
    return float((r[pos].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def cross_validate(X: pd.DataFrame, y: np.ndarray, hp: HyperParams, folds: int) -> dict[str, Any]:
    from sklearn.model_selection import StratifiedKFold

    skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=hp.seed)
    aucs, oof = [], np.zeros(len(y))
    for k, (tr, te) in enumerate(skf.split(X, y)):
        t0 = time.time()
        m = fit_additive(X.iloc[tr], y[tr], hp)
        oof[te] = m.logit(X.iloc[te])
        aucs.append(auc(y[te], oof[te]))
        print(f"  fold {k + 1}/{folds}: AUC {aucs[-1]:.4f}  ({time.time() - t0:.0f}s)", flush=True)
    return {
        "folds": folds,
        "splitter": f"StratifiedKFold(n_splits={folds}, shuffle=True, random_state={hp.seed})",
        "auc_mean": round(float(np.mean(aucs)), 4),
        "auc_std": round(float(np.std(aucs)), 4),
        "auc_per_fold": [round(a, 4) for a in aucs],
        "auc_pooled_out_of_fold": round(auc(y, oof), 4),
    }


# ---------------------------------------------------------------- export


def to_artefact(model: Additive, X: pd.DataFrame, y: np.ndarray, data_path: Path, hp: HyperParams, cv: dict[str, Any] | None) -> dict[str, Any]:
    features = []
    for code in X.columns:
        shape = model.shapes[code]
        mean_score = float(np.mean(shape.eval(X[code].to_numpy(dtype=float))))
        features.append(
            {
                "code": code,
                "description": RATIO_DEFINITIONS[code],
                "thresholds": [float(t) for t in shape.thresholds],
                "scores": [float(s) for s in shape.scores],
                "missing_score": float(shape.missing),
                "mean_score": round(mean_score, 9),
                "train_missing_share": round(float(X[code].isna().mean()), 6),
            }
        )
    interactions = []
    for p in model.pairs:
        a, b = p.codes
        interactions.append(
            {
                "codes": [a, b],
                "thresholds_a": [float(t) for t in p.thresholds_a],
                "thresholds_b": [float(t) for t in p.thresholds_b],
                "table": [[float(v) for v in row] for row in p.table],
                "mean_score": round(float(np.mean(p.eval(X[a].to_numpy(dtype=float), X[b].to_numpy(dtype=float)))), 9),
            }
        )
    n, n_bad = len(y), int(y.sum())
    data_sha = sha256_of(data_path)
    version = f"{MODEL_NAME}-{_dt.datetime.now(_dt.UTC).date():%Y%m%d}-{data_sha[:8]}"
    import sklearn

    try:
        import interpret

        interpret_version = interpret.__version__
    except ImportError:  # pragma: no cover
        interpret_version = None
    return {
        "format": ARTEFACT_FORMAT,
        "version": version,
        "target": "bankrupt within 1 year (probability of default, 12 months)",
        "link": "logit",
        "bin_rule": "bin index = number of thresholds strictly below x (x <= t -> lower bin); missing -> missing_score",
        "intercept": model.intercept,
        "base_rate": n_bad / n,
        "features": features,
        "interactions": interactions,
        "metadata": {
            "model": MODEL_NAME,
            "model_type": (
                f"additive logit (GA2M): Explainable Boosting Machine, one step function per ratio"
                f" + {len(model.pairs)} pairwise 2-D terms, exposed as their own contributions"
                if model.pairs
                else "additive logit (GAM): one step function per ratio"
            ),
            "training_data": {
                "file": data_path.name,
                "sha256": data_sha,
                "rows": n,
                "bankrupt": n_bad,
                "base_rate": round(n_bad / n, 6),
            },
            "hyper_parameters": hp.as_dict(),
            "cross_validation": cv,
            "trained_at": _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
            "training_date": _dt.datetime.now(_dt.UTC).date().isoformat(),
            "software": {
                "python": sys.version.split()[0],
                "numpy": np.__version__,
                "pandas": pd.__version__,
                "scikit-learn": sklearn.__version__,
                "interpret": interpret_version,
            },
        },
    }


def dump_artefact(artefact: dict[str, Any]) -> str:
    """JSON text: readable header and metadata, one compact line per feature."""
    head = {k: v for k, v in artefact.items() if k not in ("features", "interactions")}
    text = json.dumps(head, indent=1, allow_nan=False)
    parts = []
    for key in ("features", "interactions"):
        items = ",\n".join("  " + json.dumps(f, separators=(",", ":"), allow_nan=False) for f in artefact[key])
        parts.append(f' "{key}": [\n{items}\n ]' if items else f' "{key}": []')
    return text[:-2] + ",\n" + ",\n".join(parts) + "\n}\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Train the additive financial-strength scorecard")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"training CSV (default {DEFAULT_DATA})")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"artefact to write (default {DEFAULT_OUT})")
    parser.add_argument("--cv-folds", type=int, default=5, help="cross-validation folds (0 = skip)")
    parser.add_argument("--ebm-weight", type=float, default=None, help="override the EBM share in the blend")
    parser.add_argument("--hgb-seeds", type=int, default=None, help="override the number of bagged HGB seeds")
    parser.add_argument("--interactions", type=int, default=None, help="override the number of EBM pairwise terms")
    args = parser.parse_args(argv)

    hp = HyperParams()
    overrides = {k: v for k, v in (("ebm_weight", args.ebm_weight), ("hgb_seeds", args.hgb_seeds), ("ebm_interactions", args.interactions)) if v is not None}
    if overrides:
        hp = HyperParams(**{**hp.__dict__, **overrides})
    X, y = load_training_data(args.data)
    print(f"training data {args.data}: {len(y)} rows, {int(y.sum())} bankrupt ({y.mean():.4f})", flush=True)

    cv = None
    if args.cv_folds and args.cv_folds > 1:
        print(f"{args.cv_folds}-fold cross-validation of the full pipeline:", flush=True)
        cv = cross_validate(X, y, hp, args.cv_folds)
        print(f"CV AUC {cv['auc_mean']:.4f} +/- {cv['auc_std']:.4f} (pooled out-of-fold {cv['auc_pooled_out_of_fold']:.4f})", flush=True)

    t0 = time.time()
    model = fit_additive(X, y, hp)
    artefact = to_artefact(model, X, y, args.data, hp, cv)
    # check the exported JSON reproduces the trained model exactly (pure-Python scorer)
    card = scorecard_from_dict(json.loads(json.dumps(artefact)))
    z_np = model.logit(X)
    records = X.to_dict("records")
    z_py = np.array([card.predict_logit({k: (None if v != v else v) for k, v in r.items()}) for r in records])
    max_diff = float(np.max(np.abs(z_np - z_py)))
    if not math.isfinite(max_diff) or max_diff > 1e-6:
        raise SystemExit(f"exported scorecard disagrees with the trained model (max |diff| {max_diff})")
    print(
        f"final model fitted in {time.time() - t0:.0f}s; training AUC {auc(y, z_np):.4f} (in-sample, optimistic); export check max |diff| {max_diff:.2e}",
        flush=True,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(dump_artefact(artefact), encoding="utf-8")
    n_bins = sum(len(f["thresholds"]) + 1 for f in artefact["features"])
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KiB, {n_bins} bins, version {artefact['version']})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
