"""Bundled datasets (CDNOW, donations) and simulators with known truth."""

from clv.datasets._loaders import load_cdnow, load_donations
from clv.datasets.simulate import (
    simulate_beta_geo,
    simulate_beta_geo_beta_binom,
    simulate_gamma_gamma,
    simulate_messy_log,
    simulate_modified_beta_geo,
    simulate_pareto_nbd,
)
from clv.datasets.simulate_holdout import simulate_with_holdout

__all__ = [
    "load_cdnow",
    "load_donations",
    "simulate_beta_geo",
    "simulate_beta_geo_beta_binom",
    "simulate_gamma_gamma",
    "simulate_messy_log",
    "simulate_modified_beta_geo",
    "simulate_pareto_nbd",
    "simulate_with_holdout",
]
