"""Build a candidate by kind, and read one back from its folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from clv.candidates.base import FORMAT_NAME, FORMAT_VERSION, KINDS, Candidate
from clv.candidates.baseline import BaselineCandidate
from clv.candidates.boosted import BoostedCandidate
from clv.candidates.btyd import BetaGeoCandidate, ModifiedBetaGeoCandidate, ParetoNBDCandidate
from clv.candidates.hybrid import HybridCandidate
from clv.errors import InvalidParameterError, ModelLoadError
from clv.models._persistence import parse, read_text

__all__ = ["load_candidate", "make_candidate"]

_CLASSES: dict[str, type[Candidate]] = {
    cls.name: cls
    for cls in (
        BaselineCandidate,
        BetaGeoCandidate,
        ModifiedBetaGeoCandidate,
        ParetoNBDCandidate,
        BoostedCandidate,
        HybridCandidate,
    )
}


def make_candidate(kind: str, **params: Any) -> Candidate:
    """Build an unfitted candidate of ``kind``.

    Parameters
    ----------
    kind : {"baseline", "bg_nbd", "mbg_nbd", "pareto_nbd", "boosted", "hybrid"}
        The kind of model.
    **params
        Hyperparameters of that kind's class.

    Returns
    -------
    Candidate
        The candidate, ready for ``fit_transactions``.

    Raises
    ------
    clv.errors.InvalidParameterError
        For an unknown kind or hyperparameter.
    """
    if kind not in _CLASSES:
        raise InvalidParameterError(
            f"Unknown candidate kind {kind!r}; choose one of {', '.join(KINDS)}."
        )
    cls = _CLASSES[kind]
    valid = sorted(cls().get_params(deep=False))
    unknown = sorted(set(params) - set(valid))
    if unknown:
        raise InvalidParameterError(
            f"Unknown parameter(s) {', '.join(unknown)} for kind {kind!r}; valid: "
            f"{', '.join(valid) or 'none'}."
        )
    return cls(**params)


def load_candidate(directory: str | Path) -> Candidate:
    """Read a candidate written by :meth:`Candidate.save`.

    Parameters
    ----------
    directory : str or pathlib.Path
        Folder written by ``save``.

    Returns
    -------
    Candidate
        The fitted candidate.

    Raises
    ------
    clv.errors.ModelLoadError
        If the folder does not hold a clv candidate.
    """
    folder = Path(directory)
    state = parse(read_text(folder / "candidate.json"))
    if (
        not isinstance(state, dict)
        or state.get("format") != FORMAT_NAME
        or state.get("format_version") != FORMAT_VERSION
    ):
        raise ModelLoadError(f"{str(folder)!r} does not hold a clv candidate (format v1).")
    cls = _CLASSES.get(str(state.get("kind")))
    if cls is None:
        raise ModelLoadError(f"Unknown candidate kind {state.get('kind')!r} in {str(folder)!r}.")
    candidate = cls(**state["hyperparameters"])
    candidate.time_unit_ = state["time_unit"]
    candidate._restore(folder, state)
    return candidate
