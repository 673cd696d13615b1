"""Bundled datasets (CDNOW, donations) and simulators with known truth."""

from clv.datasets._loaders import load_cdnow, load_donations

__all__ = ["load_cdnow", "load_donations"]
