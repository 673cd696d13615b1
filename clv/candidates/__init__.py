"""Candidates: the kinds of CLV model that ``clv train`` compares, behind one interface.

Every kind fits on a transaction log up to ``as_of`` and predicts
:data:`PREDICTION_COLUMNS` from a customer feature table (docs/INTERFACES.md). Kinds
(``name``, also the MLflow tag ``clv.model``):

``baseline`` (:mod:`clv.candidates.baseline`)
    :class:`~clv.models.baseline.SimpleCLVModel` on the RFM table as of ``as_of``.
``bg_nbd``, ``mbg_nbd``, ``pareto_nbd`` (:mod:`clv.candidates.btyd`)
    The transaction model x :class:`~clv.models.gamma_gamma.GammaGammaModel`.
``boosted`` (:mod:`clv.candidates.boosted`, cutoffs by :mod:`clv.candidates.planning`)
    XGBoost future spend, purchases and churn on :func:`clv.features.customer_features`.
``hybrid`` (:mod:`clv.candidates.hybrid`)
    As ``boosted``, with BG/NBD x Gamma-Gamma outputs as features and offsets.

:func:`make_candidate` builds one by kind, :meth:`Candidate.save` writes it (JSON and
XGBoost files, never a pickle) and :func:`load_candidate` reads it back.
"""

from clv.candidates.base import KINDS, PREDICTION_COLUMNS, Candidate
from clv.candidates.baseline import BaselineCandidate
from clv.candidates.boosted import BoostedCandidate
from clv.candidates.btyd import BetaGeoCandidate, ModifiedBetaGeoCandidate, ParetoNBDCandidate
from clv.candidates.factory import load_candidate, make_candidate
from clv.candidates.hybrid import HybridCandidate

__all__ = [
    "KINDS",
    "PREDICTION_COLUMNS",
    "BaselineCandidate",
    "BetaGeoCandidate",
    "BoostedCandidate",
    "Candidate",
    "HybridCandidate",
    "ModifiedBetaGeoCandidate",
    "ParetoNBDCandidate",
    "load_candidate",
    "make_candidate",
]
