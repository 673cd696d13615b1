"""Alias of :mod:`clv.candidates`, where the candidate models now live.

Kept because ``clv.models.candidates.make_candidate`` was documented; new code imports
:mod:`clv.candidates`. The one import from ``clv.models`` up to the candidates layer.
"""

from clv.candidates import *  # noqa: F403
from clv.candidates import __all__  # noqa: F401
