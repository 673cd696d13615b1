"""clv: customer lifetime value and churn.

The most used names are importable from the top level; the subpackages hold the
rest: :mod:`clv.features` (transactions to customer tables), :mod:`clv.models`
(probabilistic, boosted and baseline models, CLV, segments), :mod:`clv.training`
(holdout comparison, MLflow tracking and registry), :mod:`clv.serving` (endpoint and
batch scoring), :mod:`clv.datasets` (bundled data and simulators) and
:mod:`clv.errors` (the exception tree). ``import clv`` loads neither MLflow, XGBoost,
Spark nor matplotlib.
"""

from importlib.metadata import PackageNotFoundError, version

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

try:
    __version__ = version("clv")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"

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
