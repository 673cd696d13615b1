"""Old name of :mod:`clv.mlflow_model.pyfunc_model` (before the layout of issue 13), kept.

The served model now lives in :mod:`clv.mlflow_model`: the pyfunc
(:mod:`~clv.mlflow_model.pyfunc_model`), its signature and output columns
(:mod:`~clv.mlflow_model.signature`) and its input rules
(:mod:`~clv.mlflow_model.validation`).
"""

from clv.mlflow_model import params, pyfunc_model, signature, validation
from clv.mlflow_model.params import *  # noqa: F403
from clv.mlflow_model.pyfunc_model import *  # noqa: F403
from clv.mlflow_model.signature import *  # noqa: F403
from clv.mlflow_model.validation import *  # noqa: F403

__all__ = [*params.__all__, *pyfunc_model.__all__, *signature.__all__, *validation.__all__]
