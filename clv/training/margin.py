"""Old name of :mod:`clv.mlflow_model.margin` (before the layout of issue 13), kept.

A model logged by an earlier clv imports it from here when it is loaded in a process
that has already imported this clv (``clv score``, ``clv serve``).
"""

from clv.mlflow_model.margin import *  # noqa: F403
from clv.mlflow_model.margin import __all__  # noqa: F401
