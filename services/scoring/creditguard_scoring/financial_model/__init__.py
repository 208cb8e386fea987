"""Explainable financial-strength model: additive scorecard giving a 12-month PD.

Runtime is stdlib only: ``load_scorecard()`` reads the committed ``scorecard.json``.
Training (``tools/train_scorecard.py``, outside the package) needs the packages in ``tools/requirements-train.txt``.
"""

from .scorecard import (
    FeatureContribution,
    FeatureShape,
    FinancialAssessment,
    Scorecard,
    load_scorecard,
    prior_shift,
)

__all__ = [
    "FeatureContribution",
    "FeatureShape",
    "FinancialAssessment",
    "Scorecard",
    "load_scorecard",
    "prior_shift",
]
