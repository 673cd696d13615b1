"""Fuzz: random small transaction logs through the features and every BTYD model.

300 seeded logs (1-29 customers; ties and same-day purchases; amounts from 1e-9 to
1e12; integer, string, large-integer and mixed int/str ids; string, datetime and
tz-aware timestamps; days or weeks) go through :func:`clv.features.rfm_summary` and
BG/NBD, MBG/NBD, Pareto/NBD, BG/BB (on opportunities cut from the same table) and
Gamma-Gamma. For every log the test asserts what ``tests/models/_fuzz.py`` checks:

* only :class:`clv.errors.CLVError` is raised, by the features, the fits and the
  predictions;
* every prediction (expected purchases at three horizons and as a curve, P(alive),
  P(no purchase), a new customer's expected purchases, expected spend) is finite,
  non-negative and, for probabilities, in [0, 1];
* every fit that returns without a warning is at the optimum: SciPy's L-BFGS-B and
  Nelder-Mead, started there on the per-customer log-likelihood within the fit's
  box (log-parameters in [-25, 25]), gain no more than ``TOLERANCE``.

The fits that used to stop short without a warning (a likelihood rising slowly along
a curved ridge towards the edge of the box, or a parameter stopped just inside it) are
now caught by the post-fit check (:mod:`clv.models._optimum`: a derivative-free search
at suspect points, a warning for a parameter within 1 of the edge); they are kept as
fast regression tests in ``tests/models/test_post_fit_check.py``.
"""

import pytest

from tests.models._fuzz import run_seed

N_LOGS = 300
CHUNK = 30
#: Log-likelihood (total) a second optimiser may find above an unwarned fit.
TOLERANCE = 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("first", range(0, N_LOGS, CHUNK))
def test_random_small_logs(first):
    problems = []
    for seed in range(first, first + CHUNK):
        problems += run_seed(seed, tolerance=TOLERANCE)
    assert not problems, "\n".join(problems)
