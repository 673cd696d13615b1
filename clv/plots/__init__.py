"""Diagnostic plots, headless-safe.

Every function builds a :class:`matplotlib.figure.Figure` attached to an Agg canvas
and returns it: no pyplot, no global state, no backend switching, so the plots work
in batch jobs, servers and notebooks alike (in Jupyter, run ``%matplotlib inline``
once to see a returned figure).
Write one with :func:`save_figure`; ``clv train`` logs them to its MLflow runs.

This module imports matplotlib (the ``clv[plots]`` extra); ``import clv``,
``clv.models`` and ``clv.training`` never do.

Probabilistic-model diagnostics (Fader, Hardie & Lee 2005):

* :func:`probability_alive_matrix` -- P(alive) over frequency and recency.
* :func:`expected_vs_actual_by_frequency` -- holdout purchases by calibration frequency.
* :func:`cumulative_tracking` -- cumulative repeat purchases over time, predicted
  against actual.

Holdout comparison of any models (metrics: :mod:`clv.metrics`):

* :func:`decile_chart`, :func:`gain_curve`, :func:`churn_reliability_curve`.

Summaries: :func:`clv_by_segment`, :func:`cohort_heatmap`; count calibration:
:func:`holdout_count_histogram`.

One module a family: :mod:`clv.plots.btyd`, :mod:`clv.plots.holdout`,
:mod:`clv.plots.summaries`; every name is importable from ``clv.plots``.
"""

from clv.plots._figures import save_figure
from clv.plots.btyd import (
    cumulative_tracking,
    expected_vs_actual_by_frequency,
    holdout_count_histogram,
    probability_alive_matrix,
)
from clv.plots.holdout import churn_reliability_curve, decile_chart, gain_curve
from clv.plots.summaries import clv_by_segment, cohort_heatmap

__all__ = [
    "churn_reliability_curve",
    "clv_by_segment",
    "cohort_heatmap",
    "cumulative_tracking",
    "decile_chart",
    "expected_vs_actual_by_frequency",
    "gain_curve",
    "holdout_count_histogram",
    "probability_alive_matrix",
    "save_figure",
]
