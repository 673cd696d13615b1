"""scikit-learn's estimator contract, without importing scikit-learn.

scikit-learn's API is duck-typed: ``clone``, ``GridSearchCV`` and ``Pipeline`` need
``get_params`` / ``set_params`` over the constructor's keyword arguments, stored
unchanged, and ``__sklearn_tags__``. Deriving from ``sklearn.base.BaseEstimator``
would import scikit-learn, and through ``sklearn.utils.fixes`` scipy.stats, in every
process that uses a clv model, also the ones that only score: +0.9 s on each
``clv score``, ``clv serve`` worker and Spark worker start on this machine
(DESIGN.md, "Estimators"). :class:`Estimator` gives the same behaviour;
scikit-learn is imported only when its tags or its HTML display are asked for.
"""

from __future__ import annotations

import inspect
from typing import Any

from clv.errors import InvalidParameterError

__all__ = ["Estimator"]


class Estimator:
    """``get_params``, ``set_params``, ``repr`` and tags as ``BaseEstimator`` gives them."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """Return the constructor's keyword names, sorted (scikit-learn's own method name)."""
        return sorted(cls._defaults())

    @classmethod
    def _defaults(cls) -> dict[str, Any]:
        if cls.__init__ is object.__init__:
            return {}
        found = {}
        for parameter in inspect.signature(cls.__init__).parameters.values():
            if parameter.kind == parameter.VAR_POSITIONAL:
                raise TypeError(f"{cls.__name__}.__init__ must not take *args (scikit-learn).")
            if parameter.name != "self" and parameter.kind != parameter.VAR_KEYWORD:
                found[parameter.name] = parameter.default
        return found

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor's parameters.

        Parameters
        ----------
        deep : bool, default True
            Also return the parameters of parameters that are estimators, as
            ``name__parameter``.

        Returns
        -------
        dict
            Parameter names mapped to their values.
        """
        params: dict[str, Any] = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                params.update((f"{name}__{key}", v) for key, v in value.get_params().items())
            params[name] = value
        return params

    def set_params(self, **params: Any) -> Estimator:
        """Set parameters (``name`` or ``name__parameter`` of a nested estimator).

        Parameters
        ----------
        **params
            New values.

        Returns
        -------
        self

        Raises
        ------
        clv.errors.InvalidParameterError
            For a name the constructor does not take.
        """
        valid = self._get_param_names()
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, split, inner = key.partition("__")
            if name not in valid:
                raise InvalidParameterError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}. "
                    f"Valid parameters are: {sorted(valid)!r}."
                )
            if split:
                nested.setdefault(name, {})[inner] = value
            else:
                setattr(self, name, value)
        for name, inner_params in nested.items():
            getattr(self, name).set_params(**inner_params)
        return self

    def __repr__(self) -> str:
        """``Name(changed=value, ...)``: the parameters that differ from their defaults."""
        defaults = self._defaults()
        changed = [
            f"{name}={value!r}"
            for name, value in self.get_params(deep=False).items()
            if repr(value) != repr(defaults[name])
        ]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's default tags (``sklearn.utils.Tags``)."""
        from sklearn.utils import Tags, TargetTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False))

    def _repr_html_(self) -> str:
        """Return the HTML notebooks show for scikit-learn's estimators."""
        from sklearn.utils import estimator_html_repr

        return estimator_html_repr(self)
