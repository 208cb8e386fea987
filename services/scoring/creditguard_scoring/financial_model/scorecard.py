"""Pure-Python scorer for the additive financial-strength model (12-month PD).

The trained model is an additive logit model (a scorecard / GAM)::

    logit(PD) = intercept + sum_j f_j(x_j) [+ sum_(a,b) g_ab(x_a, x_b)]

with a few optional pairwise terms ``g_ab`` (2-D tables, exposed as their own
contributions). Every shape function ``f_j`` is piecewise constant: a sorted list of
thresholds splits the ratio ``x_j`` into bins, each bin has a score in logit
points, and a missing value (None, NaN, empty string or ``"?"``) has its own
score. Everything is read from the committed JSON artefact ``scorecard.json``;
no scikit-learn / interpret / numpy is needed at runtime (stdlib only).

Bin convention: with thresholds ``t_0 < t_1 < ... < t_{k-1}``, a value ``x`` falls
into bin ``i`` = number of thresholds strictly below ``x``
(``bisect.bisect_left``), i.e. ``x <= t_0`` is bin 0, ``t_{i-1} < x <= t_i`` is
bin ``i`` and ``x > t_{k-1}`` is bin ``k``.

Explanations: the contribution of feature ``j`` is ``f_j(x_j) - mean_j`` where
``mean_j`` is the average of ``f_j`` over the training rows, so a contribution
> 0 means "this ratio raises the risk compared with an average training
company", and the contributions add up exactly to ``logit - baseline_logit``
with ``baseline_logit = intercept + sum_j mean_j``.
"""

from __future__ import annotations

import itertools
import json
import math
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

ARTEFACT_FORMAT = "creditguard-additive-scorecard/1"
DEFAULT_ARTEFACT_PATH = Path(__file__).with_name("scorecard.json")

_MISSING_STRINGS = frozenset({"", "?", "na", "nan", "null", "none"})

RatioValue = float | int | str | None

#: How a missing ratio is scored. "learned": the missing bin's trained score (in the
#: training data missingness itself is informative, e.g. X21 missing -> mostly
#: bankrupt). "neutral": contribution 0 (the training-average score), for ratios that
#: are missing only because the data source does not provide them.
MISSING_POLICIES = ("learned", "neutral")


def logit(p: float) -> float:
    """ln(p / (1 - p)), for 0 < p < 1."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"probability must be strictly between 0 and 1, got {p!r}")
    return math.log(p / (1.0 - p))


def sigmoid(z: float) -> float:
    """Numerically stable logistic function."""
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def prior_shift(pd: float, source_base_rate: float, target_base_rate: float) -> float:
    """Re-calibrate a PD from the base rate it was trained at to another one.

    Elkan (2001) / logit offset: ``logit' = logit + ln(t/(1-t)) - ln(s/(1-s))``.
    A monotone transformation, so the ranking of companies is unchanged.
    """
    if pd <= 0.0:
        return 0.0
    if pd >= 1.0:
        return 1.0
    return sigmoid(logit(pd) + logit(target_base_rate) - logit(source_base_rate))


def parse_ratio(value: RatioValue) -> float | None:
    """Normalise one input value: None / NaN / '' / '?' mean missing.

    Strings are parsed as floats (the data set's CSV format); anything else that
    is not a real number raises ``ValueError``.
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in _MISSING_STRINGS:
            return None
        value = float(text)
    if isinstance(value, bool):
        raise ValueError("a boolean is not a financial ratio")
    x = float(value)
    if math.isnan(x):
        return None
    return x


@dataclass(frozen=True)
class FeatureShape:
    """Piecewise-constant shape function of one ratio."""

    code: str
    description: str
    thresholds: tuple[float, ...]
    scores: tuple[float, ...]  # len(thresholds) + 1, logit points
    missing_score: float
    mean_score: float  # average of f_j over the training rows

    def score(self, x: float | None, neutral_missing: bool = False) -> float:
        if x is None:
            return self.mean_score if neutral_missing else self.missing_score
        return self.scores[bisect_left(self.thresholds, x)]


@dataclass(frozen=True)
class PairShape:
    """Piecewise-constant interaction term g(x_a, x_b) of two ratios (a 2-D table).

    ``table[i][k]``: row/column 0 is "missing", row ``1 + bisect_left(thresholds_a, x_a)``
    (same bin rule as the main effects).
    """

    codes: tuple[str, str]
    descriptions: tuple[str, str]
    thresholds_a: tuple[float, ...]
    thresholds_b: tuple[float, ...]
    table: tuple[tuple[float, ...], ...]
    mean_score: float

    @property
    def code(self) -> str:
        return f"{self.codes[0]}:{self.codes[1]}"

    @property
    def description(self) -> str:
        return f"interaction of ({self.descriptions[0]}) and ({self.descriptions[1]})"

    def score(self, xa: float | None, xb: float | None, neutral_missing: bool = False) -> float:
        if neutral_missing and (xa is None or xb is None):
            return self.mean_score
        i = 0 if xa is None else 1 + bisect_left(self.thresholds_a, xa)
        k = 0 if xb is None else 1 + bisect_left(self.thresholds_b, xb)
        return self.table[i][k]


@dataclass(frozen=True)
class FeatureContribution:
    """Signed contribution of one term, in logit points (> 0 raises risk).

    Main-effect terms have ``kind == "ratio"`` and ``code`` like ``"X21"``; pairwise
    terms have ``kind == "interaction"``, ``code`` like ``"X27:X46"``, ``codes`` /
    ``values`` for both ratios and ``value`` None.
    """

    code: str
    description: str
    value: float | None  # the input value (None = missing, or an interaction term)
    contribution: float  # f_j(x) - mean_j
    missing: bool  # the ratio (or one of the pair) was missing
    kind: str = "ratio"
    codes: tuple[str, ...] = ()
    values: tuple[float | None, ...] = ()


@dataclass(frozen=True)
class FinancialAssessment:
    """Result of scoring one company with the raw model."""

    pd: float  # probability of default at the training base rate
    logit: float
    baseline_logit: float  # intercept + sum of average contributions
    base_rate: float  # training base rate the raw PD refers to
    model_version: str
    contributions: tuple[FeatureContribution, ...]  # ratios in feature order, then interactions

    def risk_drivers(self, n: int = 5) -> list[FeatureContribution]:
        """The n contributions that raise the risk most (largest > 0 first)."""
        ranked = sorted(self.contributions, key=lambda c: c.contribution, reverse=True)
        return [c for c in ranked[:n] if c.contribution > 0]

    def mitigants(self, n: int = 5) -> list[FeatureContribution]:
        """The n contributions that lower the risk most (most negative first)."""
        ranked = sorted(self.contributions, key=lambda c: c.contribution)
        return [c for c in ranked[:n] if c.contribution < 0]

    def by_ratio(self) -> dict[str, float]:
        """Total contribution per ratio, each interaction split equally between its two
        ratios (sums to logit - baseline_logit like the terms themselves)."""
        totals: dict[str, float] = {}
        for c in self.contributions:
            if c.kind == "interaction":
                for code in c.codes:
                    totals[code] = totals.get(code, 0.0) + c.contribution / len(c.codes)
            else:
                totals[c.code] = totals.get(c.code, 0.0) + c.contribution
        return totals


@dataclass(frozen=True)
class Scorecard:
    """An additive logit scorecard loaded from the JSON artefact."""

    version: str
    intercept: float
    shapes: tuple[FeatureShape, ...]
    base_rate: float  # bankrupt share of the training rows
    metadata: Mapping[str, Any]
    pairs: tuple[PairShape, ...] = ()

    @property
    def interactions(self) -> tuple[tuple[str, str], ...]:
        return tuple(p.codes for p in self.pairs)

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.shapes)

    @property
    def baseline_logit(self) -> float:
        return self.intercept + math.fsum(s.mean_score for s in self.shapes) + math.fsum(p.mean_score for p in self.pairs)

    def descriptions(self) -> dict[str, str]:
        return {s.code: s.description for s in self.shapes}

    def predict_logit(self, ratios: Mapping[str, RatioValue], missing: str = "learned") -> float:
        """Fast path: the logit only, without building the explanation."""
        neutral = _neutral(missing)
        total = self.intercept
        get = ratios.get
        if not self.pairs:
            for shape in self.shapes:
                total += shape.score(parse_ratio(get(shape.code)), neutral)
            return total
        values: dict[str, float | None] = {}
        for shape in self.shapes:
            x = values[shape.code] = parse_ratio(get(shape.code))
            total += shape.score(x, neutral)
        for pair in self.pairs:
            a, b = pair.codes
            total += pair.score(values[a], values[b], neutral)
        return total

    def predict_pd(self, ratios: Mapping[str, RatioValue], missing: str = "learned") -> float:
        """Raw-model PD (at the training base rate), without the explanation."""
        return sigmoid(self.predict_logit(ratios, missing))

    def predict(self, ratios: Mapping[str, RatioValue], missing: str = "learned") -> FinancialAssessment:
        """Score one company; ratios absent from the mapping count as missing.

        Keys that are not model features are ignored. ``missing`` is one of
        ``MISSING_POLICIES`` (default "learned", the model as trained).
        """
        neutral = _neutral(missing)
        contributions = []
        total = self.intercept
        values: dict[str, float | None] = {}
        for shape in self.shapes:
            x = values[shape.code] = parse_ratio(ratios.get(shape.code))
            s = shape.score(x, neutral)
            total += s
            contributions.append(
                FeatureContribution(
                    code=shape.code,
                    description=shape.description,
                    value=x,
                    contribution=s - shape.mean_score,
                    missing=x is None,
                    codes=(shape.code,),
                    values=(x,),
                )
            )
        for pair in self.pairs:
            xa, xb = values[pair.codes[0]], values[pair.codes[1]]
            s = pair.score(xa, xb, neutral)
            total += s
            contributions.append(
                FeatureContribution(
                    code=pair.code,
                    description=pair.description,
                    value=None,
                    contribution=s - pair.mean_score,
                    missing=xa is None or xb is None,
                    kind="interaction",
                    codes=pair.codes,
                    values=(xa, xb),
                )
            )
        return FinancialAssessment(
            pd=sigmoid(total),
            logit=total,
            baseline_logit=self.baseline_logit,
            base_rate=self.base_rate,
            model_version=self.version,
            contributions=tuple(contributions),
        )

    def recalibrate(self, pd: float, target_base_rate: float) -> float:
        """Prior-shift a raw PD from the training base rate to a portfolio's."""
        return prior_shift(pd, self.base_rate, target_base_rate)


def _neutral(missing: str) -> bool:
    if missing not in MISSING_POLICIES:
        raise ValueError(f"missing must be one of {MISSING_POLICIES}, got {missing!r}")
    return missing == "neutral"


def _shape_from_json(obj: Mapping[str, Any]) -> FeatureShape:
    thresholds = tuple(float(t) for t in obj["thresholds"])
    scores = tuple(float(s) for s in obj["scores"])
    code = str(obj["code"])
    if len(scores) != len(thresholds) + 1:
        raise ValueError(f"{code}: expected {len(thresholds) + 1} scores, got {len(scores)}")
    if any(b <= a for a, b in itertools.pairwise(thresholds)):
        raise ValueError(f"{code}: thresholds must be strictly increasing")
    values = (*thresholds, *scores, float(obj["missing_score"]), float(obj["mean_score"]))
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"{code}: non-finite number in the artefact")
    return FeatureShape(
        code=code,
        description=str(obj.get("description", "")),
        thresholds=thresholds,
        scores=scores,
        missing_score=float(obj["missing_score"]),
        mean_score=float(obj["mean_score"]),
    )


def _pair_from_json(obj: Mapping[str, Any], descriptions: Mapping[str, str]) -> PairShape:
    a, b = (str(c) for c in obj["codes"])
    ta = tuple(float(t) for t in obj["thresholds_a"])
    tb = tuple(float(t) for t in obj["thresholds_b"])
    table = tuple(tuple(float(v) for v in row) for row in obj["table"])
    name = f"{a}:{b}"
    if a not in descriptions or b not in descriptions or a == b:
        raise ValueError(f"interaction {name}: unknown or repeated ratio")
    if len(table) != len(ta) + 2 or any(len(row) != len(tb) + 2 for row in table):
        raise ValueError(f"interaction {name}: table must be {len(ta) + 2} x {len(tb) + 2}")
    for t in (ta, tb):
        if any(y <= x for x, y in itertools.pairwise(t)):
            raise ValueError(f"interaction {name}: thresholds must be strictly increasing")
    flat = (*ta, *tb, *(v for row in table for v in row), float(obj["mean_score"]))
    if not all(math.isfinite(v) for v in flat):
        raise ValueError(f"interaction {name}: non-finite number in the artefact")
    return PairShape(
        codes=(a, b),
        descriptions=(descriptions[a], descriptions[b]),
        thresholds_a=ta,
        thresholds_b=tb,
        table=table,
        mean_score=float(obj["mean_score"]),
    )


def scorecard_from_dict(obj: Mapping[str, Any]) -> Scorecard:
    """Build a Scorecard from the parsed JSON artefact (validates it)."""
    if obj.get("format") != ARTEFACT_FORMAT:
        raise ValueError(f"unsupported artefact format {obj.get('format')!r}")
    shapes: Sequence[FeatureShape] = tuple(_shape_from_json(f) for f in obj["features"])
    codes = [s.code for s in shapes]
    if len(set(codes)) != len(codes):
        raise ValueError("duplicate feature codes in the artefact")
    descriptions = {s.code: s.description for s in shapes}
    pairs = tuple(_pair_from_json(p, descriptions) for p in obj.get("interactions", ()))
    metadata = dict(obj.get("metadata", {}))
    base_rate = float(obj["base_rate"])
    if not 0.0 < base_rate < 1.0:
        raise ValueError(f"base_rate must be in (0, 1), got {base_rate}")
    intercept = float(obj["intercept"])
    if not math.isfinite(intercept):
        raise ValueError("non-finite intercept")
    return Scorecard(
        version=str(obj["version"]),
        intercept=intercept,
        shapes=tuple(shapes),
        base_rate=base_rate,
        metadata=MappingProxyType(metadata),
        pairs=pairs,
    )


def load_scorecard(path: str | Path | None = None) -> Scorecard:
    """Load the scorecard artefact (default: the committed scorecard.json)."""
    artefact = Path(path) if path is not None else DEFAULT_ARTEFACT_PATH
    with artefact.open(encoding="utf-8") as fh:
        return scorecard_from_dict(json.load(fh))
