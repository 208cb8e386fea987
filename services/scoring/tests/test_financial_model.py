"""Tests of the additive financial-strength scorecard (pure-Python runtime)."""

from __future__ import annotations

import csv
import hashlib
import json
import math
from pathlib import Path

import pytest

from creditguard_scoring.financial_model.ratio_definitions import RATIO_CODES, RATIO_DEFINITIONS
from creditguard_scoring.financial_model.score_file import main as score_file_main
from creditguard_scoring.financial_model.scorecard import (
    DEFAULT_ARTEFACT_PATH,
    FinancialAssessment,
    Scorecard,
    load_scorecard,
    prior_shift,
    scorecard_from_dict,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
TRAIN_CSV = REPO_ROOT.parent / "shared" / "data" / "polish-bankruptcy" / "train_1y.csv"

# Medians of the 64 ratios in train_1y.csv (rounded): a complete "typical company" so the
# tests do not depend on how the model scores missing values.
MEDIANS = {
    "X1": 0.0465,
    "X2": 0.4527,
    "X3": 0.2212,
    "X4": 1.6616,
    "X5": 1.0477,
    "X6": 0.0,
    "X7": 0.0553,
    "X8": 1.1452,
    "X9": 1.1389,
    "X10": 0.521,
    "X11": 0.0702,
    "X12": 0.1677,
    "X13": 0.0677,
    "X14": 0.0553,
    "X15": 860.175,
    "X16": 0.2329,
    "X17": 2.1995,
    "X18": 0.0553,
    "X19": 0.035,
    "X20": 38.781,
    "X21": 1.1181,
    "X22": 0.061,
    "X23": 0.0299,
    "X24": 0.1628,
    "X25": 0.4246,
    "X26": 0.2098,
    "X27": 0.9495,
    "X28": 0.5313,
    "X29": 4.1746,
    "X30": 0.2233,
    "X31": 0.0423,
    "X32": 80.08,
    "X33": 4.5298,
    "X34": 1.6746,
    "X35": 0.0602,
    "X36": 1.5564,
    "X37": 3.5284,
    "X38": 0.6233,
    "X39": 0.0386,
    "X40": 0.1786,
    "X41": 0.091,
    "X42": 0.0397,
    "X43": 106.365,
    "X44": 58.806,
    "X45": 0.2512,
    "X46": 1.0718,
    "X47": 41.9535,
    "X48": 0.0182,
    "X49": 0.0111,
    "X50": 1.2866,
    "X51": 0.328,
    "X52": 0.2188,
    "X53": 1.2715,
    "X54": 1.426,
    "X55": 1866.1,
    "X56": 0.0529,
    "X57": 0.1093,
    "X58": 0.9505,
    "X59": 0.0055,
    "X60": 9.0229,
    "X61": 6.1988,
    "X62": 73.5405,
    "X63": 4.9528,
    "X64": 4.0491,
}
# A healthy company: profitable, well capitalised, liquid.
STRONG = dict(
    MEDIANS,
    X1=0.15,
    X2=0.25,
    X3=0.35,
    X4=3.0,
    X6=0.40,
    X7=0.18,
    X8=3.0,
    X10=0.75,
    X11=0.19,
    X13=0.15,
    X14=0.18,
    X16=0.8,
    X17=4.0,
    X18=0.18,
    X22=0.18,
    X23=0.09,
    X24=0.6,
    X25=0.70,
    X26=0.7,
    X35=0.18,
    X38=0.8,
    X40=0.9,
    X46=2.2,
    X48=0.15,
    X51=0.2,
)
# A distressed company: losses, negative equity, illiquid.
WEAK = dict(
    MEDIANS,
    X1=-0.35,
    X2=1.40,
    X3=-0.55,
    X4=0.35,
    X6=-0.60,
    X7=-0.30,
    X8=-0.30,
    X10=-0.40,
    X11=-0.28,
    X13=-0.25,
    X14=-0.30,
    X16=-0.20,
    X17=0.7,
    X18=-0.30,
    X22=-0.30,
    X23=-0.40,
    X24=-0.1,
    X25=-0.50,
    X26=-0.25,
    X35=-0.30,
    X38=-0.3,
    X27=-2.0,
    X40=0.01,
    X46=0.2,
    X48=-0.35,
    X51=1.2,
)


@pytest.fixture(scope="module")
def card() -> Scorecard:
    return load_scorecard()


def test_artefact_loads_with_metadata(card: Scorecard) -> None:
    assert DEFAULT_ARTEFACT_PATH.exists()
    assert DEFAULT_ARTEFACT_PATH.stat().st_size < 1_000_000
    assert card.features == RATIO_CODES
    assert len(card.pairs) <= 20  # "a few" pairwise terms only
    assert all(a in RATIO_CODES and b in RATIO_CODES for a, b in card.interactions)
    assert card.version and card.version.startswith("financial-strength")
    td = card.metadata["training_data"]
    assert td["file"] == "train_1y.csv"
    assert len(td["sha256"]) == 64
    assert td["rows"] > td["bankrupt"] > 0
    assert card.base_rate == pytest.approx(td["bankrupt"] / td["rows"])
    assert card.metadata["hyper_parameters"]
    assert card.metadata["training_date"]
    cv = card.metadata["cross_validation"]
    assert cv is not None and 0.5 < cv["auc_mean"] <= 1.0
    for shape in card.shapes:
        assert shape.description == RATIO_DEFINITIONS[shape.code]
        assert len(shape.scores) == len(shape.thresholds) + 1


def test_artefact_validation_rejects_broken_files() -> None:
    obj = json.loads(DEFAULT_ARTEFACT_PATH.read_text(encoding="utf-8"))
    bad = json.loads(json.dumps(obj))
    bad["features"][0]["scores"] = bad["features"][0]["scores"][:-1]
    with pytest.raises(ValueError, match="scores, got"):
        scorecard_from_dict(bad)
    if obj.get("interactions"):
        bad = json.loads(json.dumps(obj))
        bad["interactions"][0]["table"] = bad["interactions"][0]["table"][:-1]
        with pytest.raises(ValueError, match="table must be"):
            scorecard_from_dict(bad)
        bad = json.loads(json.dumps(obj))
        bad["interactions"][0]["codes"] = ["X1", "X999"]
        with pytest.raises(ValueError, match="unknown or repeated ratio"):
            scorecard_from_dict(bad)
    bad = json.loads(json.dumps(obj))
    bad["format"] = "something-else"
    with pytest.raises(ValueError, match="unsupported artefact format"):
        scorecard_from_dict(bad)


def test_strong_company_has_lower_pd_than_weak(card: Scorecard) -> None:
    strong, weak = card.predict(STRONG), card.predict(WEAK)
    assert isinstance(strong, FinancialAssessment)
    typical = card.predict(MEDIANS)
    assert 0.0 < strong.pd < typical.pd < weak.pd < 1.0
    assert weak.pd > card.base_rate
    # the weak company's top risk drivers raise the risk, the strong one's mitigants lower it
    assert all(c.contribution > 0 for c in weak.risk_drivers(5))
    assert all(c.contribution < 0 for c in strong.mitigants(5))
    assert weak.risk_drivers(3) and strong.mitigants(3)


def test_profitability_alone_moves_pd_the_right_way(card: Scorecard) -> None:
    base = dict(STRONG)
    worse = dict(base, X1=-0.5, X7=-0.5, X6=-0.8)
    assert card.predict(worse).pd > card.predict(base).pd


@pytest.mark.parametrize(
    "ratios",
    [
        {},
        dict.fromkeys(RATIO_CODES),
        {code: float("nan") for code in RATIO_CODES},
        dict.fromkeys(RATIO_CODES, ""),
        dict.fromkeys(RATIO_CODES, "?"),
        dict(STRONG, X5=None, X21="?", X37=float("nan"), unrelated_key=123.0),
        {"X1": float("inf"), "X2": float("-inf"), "X3": 1e300},
    ],
)
def test_missing_and_extreme_values_are_scored(card: Scorecard, ratios: dict) -> None:
    a = card.predict(ratios)
    assert 0.0 < a.pd < 1.0 and math.isfinite(a.logit)
    assert len(a.contributions) == len(card.features) + len(card.pairs)
    for c in a.contributions[: len(card.features)]:
        if c.code not in ratios or ratios[c.code] in (None, "", "?") or (isinstance(ratios[c.code], float) and math.isnan(ratios[c.code])):
            assert c.missing and c.value is None


def test_all_missing_uses_missing_bins(card: Scorecard) -> None:
    a = card.predict({})
    expected = card.intercept + math.fsum(s.missing_score for s in card.shapes) + math.fsum(p.table[0][0] for p in card.pairs)
    assert a.logit == pytest.approx(expected)


def test_neutral_missing_policy(card: Scorecard) -> None:
    partial = {k: v for k, v in STRONG.items() if k not in ("X21", "X27", "X37")}
    learned = card.predict(partial)
    neutral = card.predict(partial, missing="neutral")
    for c in neutral.contributions:
        if set(c.codes) & {"X21", "X27", "X37"}:
            assert c.missing and c.contribution == pytest.approx(0.0, abs=1e-12)
    # complete inputs do not depend on the policy
    assert card.predict(STRONG, missing="neutral").logit == pytest.approx(card.predict(STRONG).logit)
    assert neutral.logit == pytest.approx(card.predict_logit(partial, missing="neutral"))
    assert learned.logit != neutral.logit
    with pytest.raises(ValueError, match="missing must be one of"):
        card.predict(partial, missing="zero")


def test_invalid_value_raises(card: Scorecard) -> None:
    with pytest.raises(ValueError, match="could not convert string to float"):
        card.predict({"X1": "not a number"})


@pytest.mark.parametrize("ratios", [STRONG, WEAK, {}])
def test_contributions_sum_to_logit_minus_baseline(card: Scorecard, ratios: dict) -> None:
    a = card.predict(ratios)
    total = math.fsum(c.contribution for c in a.contributions)
    assert total == pytest.approx(a.logit - a.baseline_logit, abs=1e-9)
    assert a.baseline_logit == pytest.approx(card.intercept + math.fsum(s.mean_score for s in card.shapes) + math.fsum(p.mean_score for p in card.pairs))
    by_ratio = a.by_ratio()
    assert set(by_ratio) == set(card.features)
    assert math.fsum(by_ratio.values()) == pytest.approx(a.logit - a.baseline_logit, abs=1e-9)
    assert a.pd == pytest.approx(1.0 / (1.0 + math.exp(-a.logit)))
    assert a.model_version == card.version
    assert card.predict_logit(ratios) == pytest.approx(a.logit)
    n = len(card.features)
    assert [c.code for c in a.contributions[:n]] == list(card.features)
    assert all(c.kind == "ratio" for c in a.contributions[:n])
    for c, pair in zip(a.contributions[n:], card.pairs, strict=True):
        assert c.kind == "interaction" and c.codes == pair.codes and c.code == f"{pair.codes[0]}:{pair.codes[1]}"
        assert c.values == tuple(a.contributions[card.features.index(k)].value for k in pair.codes)
    for c in a.contributions[:n]:
        assert c.description == RATIO_DEFINITIONS[c.code]
        if c.code in ratios:
            assert c.value == pytest.approx(float(ratios[c.code]))
            assert not c.missing


def test_recalibration_lowers_pd_and_keeps_ranking(card: Scorecard) -> None:
    companies = [STRONG, WEAK, {}, dict(STRONG, X1=-0.2), dict(WEAK, X8=2.0)]
    raw = [card.predict(c).pd for c in companies]
    target = card.base_rate / 5
    shifted = [card.recalibrate(p, target) for p in raw]
    assert all(s < p for s, p in zip(shifted, raw, strict=True))
    assert sorted(range(len(raw)), key=raw.__getitem__) == sorted(range(len(shifted)), key=shifted.__getitem__)

    # logit offset is exactly ln odds(target) - ln odds(train rate)
    def lo(p: float) -> float:
        return math.log(p / (1 - p))

    offset = lo(target) - lo(card.base_rate)
    for s, p in zip(shifted, raw, strict=True):
        assert lo(s) - lo(p) == pytest.approx(offset)
    # identity at the training base rate; raising the base rate raises the PD
    assert card.recalibrate(raw[0], card.base_rate) == pytest.approx(raw[0])
    assert prior_shift(raw[0], card.base_rate, 0.5) > raw[0]


def test_score_file_round_trip(card: Scorecard, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    out = tmp_path / "out.csv"
    rows = [("strong", STRONG), ("weak", WEAK), ("empty", {})]
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["company", *RATIO_CODES, "bankrupt"])
        for name, ratios in rows:
            w.writerow([name, *[ratios.get(c, "?" if name == "empty" else "") for c in RATIO_CODES], 0])
    assert score_file_main([str(src), str(out)]) == 0
    with out.open(newline="") as fh:
        got = list(csv.reader(fh))
    assert got[0] == ["company", "pd"]
    assert [r[0] for r in got[1:]] == [name for name, _ in rows]
    for (_, ratios), r in zip(rows, got[1:], strict=True):
        assert float(r[1]) == pytest.approx(card.predict(ratios).pd, rel=1e-12)
    # with a portfolio base rate the PDs are prior-shifted
    out2 = tmp_path / "out2.csv"
    assert score_file_main([str(src), str(out2), "--base-rate", "0.01"]) == 0
    with out2.open(newline="") as fh:
        got2 = list(csv.reader(fh))
    for r, r2 in zip(got[1:], got2[1:], strict=True):
        assert float(r2[1]) == pytest.approx(card.recalibrate(float(r[1]), 0.01))


def test_recorded_training_hash_matches_data(card: Scorecard) -> None:
    if not TRAIN_CSV.exists():
        pytest.skip(f"data folder absent: {TRAIN_CSV}")
    digest = hashlib.sha256(TRAIN_CSV.read_bytes()).hexdigest()
    assert card.metadata["training_data"]["sha256"] == digest
    with TRAIN_CSV.open(newline="") as fh:
        labels = [int(r["bankrupt"]) for r in csv.DictReader(fh)]
    assert card.metadata["training_data"]["rows"] == len(labels)
    assert card.metadata["training_data"]["bankrupt"] == sum(labels)
