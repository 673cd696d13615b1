"""MBG/NBD: the modified BG/NBD model, where customers may also drop out at time 0.

Batislam, E. P., Denizel, M. & Filiztekin, A. (2007). "Empirical validation and
comparison of models for customer base analysis." *International Journal of Research
in Marketing* 24(3), 201-209 (likelihood eq. 4, P(alive) Appendix A eq. 5); the
conditional expectation follows Wagner, U. & Hoppe, D. (2008). The mathematics is
BG/NBD's with ``b`` shifted by one (:class:`clv.models.beta_geo.BetaGeoFamily`).
"""

from __future__ import annotations

from typing import ClassVar

from clv.models.beta_geo import BetaGeoFamily

__all__ = ["ModifiedBetaGeoModel"]


class ModifiedBetaGeoModel(BetaGeoFamily):
    """MBG/NBD model (Batislam, Denizel & Filiztekin 2007).

    As BG/NBD, but a customer may drop out right after the first purchase too, so
    customers without repeat purchases are not assumed alive.

    Parameters
    ----------
    penalty : float, default 0.0
        L2 penalty: maximises ``mean LL per customer - penalty * sum(log(theta)**2)``.
    compute_standard_errors : bool, default False
        Set ``standard_errors_`` from the Hessian at the optimum.
    n_restarts : int, default 3
        Further starting points tried when the first run fails.
    max_iter : int, default 1000
        Maximum quasi-Newton (BFGS) iterations per run.
    time_unit : {"D", "W", "Y"} or None, default None
        Unit of ``recency`` and ``T``; ``None`` reads the table's ``attrs``.

    Attributes
    ----------
    params_ : pandas.Series
        ``r``, ``alpha``, ``a``, ``b``.
    log_likelihood_ : float
        Total log-likelihood (-9,582.13 on the CDNOW calibration data, in weeks).
    n_customers_ : int
        Customers fitted.
    """

    _shift: ClassVar[float] = 1.0
