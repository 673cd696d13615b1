"""Bundled datasets (CDNOW, donations) and simulators with known truth."""

from clv.datasets import simulate
from clv.datasets._loaders import load_cdnow, load_donations
from clv.datasets.simulate import *  # noqa: F403
from clv.datasets.simulate_holdout import simulate_with_holdout

__all__ = ["load_cdnow", "load_donations", *simulate.__all__, "simulate_with_holdout"]
