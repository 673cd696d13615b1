"""Exceptions and warnings raised by clv.

The tree, so that callers can catch exactly what they mean::

    CLVError(Exception)                    base of every error clv raises on purpose
    ├── InvalidDataError(CLVError, ValueError)
    │                                      bad input data: missing columns, nulls,
    │                                      impossible values; names the column, the
    │                                      count and a few offending customers
    │   └── RequestError(InvalidDataError) a request to ``clv serve`` that is refused;
    │                                      ``status`` is its HTTP status (4xx)
    ├── InvalidParameterError(CLVError, ValueError)
    │                                      a constructor or call argument outside its range
    ├── NotFittedError(CLVError, AttributeError)
    │                                      a fitted attribute was used before ``fit``
    ├── ConvergenceError(CLVError, RuntimeError)
    │                                      the optimiser truly failed; carries a numbered
    │                                      checklist of what to try
    ├── ModelLoadError(CLVError, ValueError)
    │                                      a saved model cannot be read
    └── SparkError(CLVError, RuntimeError)
                                           Spark failed for a reason other than the
                                           data (no Java, workers without clv's Python,
                                           a lost executor); one line naming the cause

    CLVWarning(UserWarning)                base of every warning clv emits
    ├── DataQualityWarning(CLVWarning)     input accepted, but something was dropped or fixed
    │   └── DataPolicyWarning(DataQualityWarning)
    │                                      a documented data policy dropped, netted or left
    │                                      out rows (rows without a customer id, returns,
    │                                      duplicates, zero repeat spend in Gamma-Gamma);
    │                                      ``counts`` holds the numbers by name
    ├── PrecisionWarning(CLVWarning)       the optimum was reached but the optimiser
    │                                      reported a loss of precision
    └── AssumptionWarning(CLVWarning)      the data contradict a model's assumption (e.g.
                                           Gamma-Gamma: spend independent of frequency)

The errors that describe bad input subclass :class:`ValueError`, so code written
against scikit-learn's conventions keeps working. Warnings are emitted with
:func:`warnings.warn` and can be filtered by class; clv never changes the warning
filters itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "AssumptionWarning",
    "CLVError",
    "CLVWarning",
    "ConvergenceError",
    "DataPolicyWarning",
    "DataQualityWarning",
    "InvalidDataError",
    "InvalidParameterError",
    "ModelLoadError",
    "NotFittedError",
    "PrecisionWarning",
    "RequestError",
    "SparkError",
    "describe_examples",
    "first_line",
]


class CLVError(Exception):
    """Base class of every error raised by clv on purpose."""


class InvalidDataError(CLVError, ValueError):
    """Input data violates the contract (columns, types, values)."""


class RequestError(InvalidDataError):
    """A request to ``clv serve`` is refused; ``status`` is the HTTP status to answer (4xx).

    Parameters
    ----------
    message : str
        One sentence naming what is wrong (never the payload).
    status : int, default 400
        400 for a malformed request, 413 for one too large, 415 for a content type
        the endpoint does not read.
    """

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


class InvalidParameterError(CLVError, ValueError):
    """An argument is outside its documented range."""


class NotFittedError(CLVError, AttributeError):
    """A model was used before it was fitted."""


class ConvergenceError(CLVError, RuntimeError):
    """The optimiser failed to find a maximum of the likelihood."""


class ModelLoadError(CLVError, ValueError):
    """A saved model cannot be read (missing file, wrong format or version)."""


class SparkError(CLVError, RuntimeError):
    """Spark failed for a reason other than the data; the message names the cause."""


class CLVWarning(UserWarning):
    """Base class of every warning emitted by clv."""


class DataQualityWarning(CLVWarning):
    """Input was accepted, but rows were dropped or repaired."""


class DataPolicyWarning(DataQualityWarning):
    """A documented data policy dropped, netted or left out rows; says how many.

    Parameters
    ----------
    message : str
        What was done, with the counts and a few customers.
    counts : mapping of str to int, optional
        The same counts by name (for example ``{"return_rows_netted": 12}``), so
        that callers can report them without parsing the message.
    """

    def __init__(self, message: str, counts: dict[str, int] | None = None):
        super().__init__(message)
        self.counts = dict(counts or {})


class PrecisionWarning(CLVWarning):
    """The optimiser stopped at the optimum with a loss of precision."""


class AssumptionWarning(CLVWarning):
    """The model was fitted, but the data contradict one of its assumptions."""


def describe_examples(ids: Iterable[object] | Sequence[object], limit: int = 3) -> str:
    """Return the first ``limit`` identifiers for an error message, e.g. ``"e.g. 1041, 77, 9"``."""
    shown = []
    for value in ids:
        if len(shown) >= limit:
            break
        shown.append(str(value))
    return "e.g. " + ", ".join(shown) if shown else ""


def first_line(error: BaseException, limit: int = 200) -> str:
    """Return the first line of an error's message (or ``message`` attribute, as MLflow's).

    Cut to ``limit`` characters; the class name when the message is empty.
    """
    text = str(getattr(error, "message", None) or error).strip().splitlines()
    line = text[0] if text else type(error).__name__
    return line if len(line) <= limit else line[: limit - 3] + "..."
