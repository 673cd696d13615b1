"""Probabilistic customer-base models (BTYD family, Gamma-Gamma) and CLV.

``BetaGeoModel`` (BG/NBD), ``ModifiedBetaGeoModel`` (MBG/NBD), ``ParetoNBDModel``,
``BetaGeoBetaBinomModel`` (BG/BB) and ``GammaGammaModel`` follow the scikit-learn
estimator contract; :func:`customer_lifetime_value` combines a transaction model with
a spend model.
"""

from clv.models.beta_geo import BetaGeoModel
from clv.models.beta_geo_beta_binom import BetaGeoBetaBinomModel
from clv.models.gamma_gamma import GammaGammaModel
from clv.models.modified_beta_geo import ModifiedBetaGeoModel
from clv.models.pareto_nbd import ParetoNBDModel
from clv.models.value import customer_lifetime_value

__all__ = [
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "GammaGammaModel",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "customer_lifetime_value",
]
