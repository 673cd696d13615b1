"""The installed version of clv (``0.0.0`` in a source tree that is not installed)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("clv")
except PackageNotFoundError:
    __version__ = "0.0.0"
