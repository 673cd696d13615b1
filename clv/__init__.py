"""clv: customer lifetime value and churn.

The most used names are importable from the top level; the subpackages hold the
rest: :mod:`clv.features` (transactions to customer tables), :mod:`clv.models`
(probabilistic, boosted and baseline models, CLV, segments), :mod:`clv.training`
(holdout comparison, MLflow tracking and registry), :mod:`clv.serving` (endpoint and
batch scoring), :mod:`clv.datasets` (bundled data and simulators) and
:mod:`clv.errors` (the exception tree). ``import clv`` loads neither MLflow, XGBoost,
Spark nor matplotlib.
"""

from clv._version import __version__
from clv.datasets import load_cdnow, load_donations
from clv.errors import CLVError, ConvergenceError, InvalidDataError
from clv.features import calibration_holdout_split, rfm_summary
from clv.models import (
    BetaGeoBetaBinomModel,
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    customer_lifetime_value,
)

__all__ = [
    "BetaGeoBetaBinomModel",
    "BetaGeoModel",
    "CLVError",
    "ConvergenceError",
    "GammaGammaModel",
    "InvalidDataError",
    "ModifiedBetaGeoModel",
    "ParetoNBDModel",
    "__version__",
    "calibration_holdout_split",
    "customer_lifetime_value",
    "load_cdnow",
    "load_donations",
    "rfm_summary",
]
