"""clv's estimators keep scikit-learn's contract without deriving from BaseEstimator.

:mod:`clv._estimator_contract` gives ``get_params``/``set_params``/``repr``/tags so that
a process that only scores never imports scikit-learn (and scipy.stats through it).
"""

import json
import subprocess
import sys
import textwrap
import warnings

import pytest
from sklearn.base import clone
from sklearn.pipeline import Pipeline
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import (
    check_do_not_raise_errors_in_init_or_set_params,
    check_estimator_cloneable,
    check_estimator_repr,
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
)

import clv.candidates
import clv.models.boosted
import clv.models.segments
from clv._estimator_contract import Estimator
from clv.errors import InvalidParameterError, PrecisionWarning
from clv.models import BetaGeoModel


def _public_estimators() -> list[type]:
    found, stack = [], list(Estimator.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if not cls.__name__.startswith("_") and cls.__module__.startswith("clv."):
            found.append(cls)
    return sorted(set(found), key=lambda cls: cls.__name__)


ESTIMATORS = _public_estimators()


def test_every_kind_of_estimator_is_covered():
    names = {cls.__name__ for cls in ESTIMATORS}
    expected = {"BetaGeoModel", "GammaGammaModel", "SimpleCLVModel", "SegmentRules"}
    assert expected | {"BoostedSpendModel", "BetaGeoCandidate", "HybridCandidate"} <= names


@pytest.mark.parametrize("cls", ESTIMATORS, ids=lambda cls: cls.__name__)
def test_scikit_learn_checks(cls):
    name = cls.__name__
    for check in (
        check_no_attributes_set_in_init,
        check_get_params_invariance,
        check_parameters_default_constructible,
        check_set_params,
        check_estimator_repr,
        check_estimator_cloneable,
        check_do_not_raise_errors_in_init_or_set_params,
    ):
        check(name, cls())
    assert get_tags(cls()).target_tags.required is False
    assert clone(cls()).get_params() == cls().get_params()


def test_repr_names_the_changed_parameters_only():
    assert repr(BetaGeoModel()) == "BetaGeoModel()"
    assert repr(BetaGeoModel(penalty=0.1, time_unit="D")) == (
        "BetaGeoModel(penalty=0.1, time_unit='D')"
    )
    assert "BetaGeoModel" in BetaGeoModel()._repr_html_()


def test_unknown_parameter_is_a_clv_error_naming_the_valid_ones():
    with pytest.raises(InvalidParameterError, match=r"'penaltyy'.*\['compute_standard_errors'"):
        BetaGeoModel().set_params(penaltyy=1.0)


class _Outer(Estimator):
    def __init__(self, inner=None, scale=1.0):
        self.inner = inner
        self.scale = scale


def test_nested_parameters_and_pipelines():
    outer = _Outer(inner=BetaGeoModel())
    assert outer.get_params()["inner__penalty"] == 0.0
    outer.set_params(inner__penalty=0.2, scale=3.0)
    assert outer.inner.penalty == 0.2 and outer.scale == 3.0
    pipeline = Pipeline([("model", BetaGeoModel())]).set_params(model__max_iter=50)
    assert pipeline.named_steps["model"].max_iter == 50


def test_star_args_are_refused():
    class Loose(Estimator):
        def __init__(self, *values):
            self.values = values

    with pytest.raises(TypeError, match=r"\*args"):
        Loose().get_params()


def test_scoring_a_saved_candidate_never_imports_scikit_learn(tmp_path):
    from clv.datasets import load_cdnow
    from clv.features.behaviour import customer_features

    log = load_cdnow()
    candidate = clv.candidates.make_candidate("bg_nbd")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PrecisionWarning)
        candidate.fit_transactions(log, as_of="1997-09-30", time_unit="W")
    candidate.save(tmp_path / "model")
    expected = candidate.predict(
        customer_features(log, as_of="1998-06-30", time_unit="W"), horizon=10
    )
    code = textwrap.dedent(
        f"""
        import json, sys
        import clv
        from clv.candidates import load_candidate
        from clv.datasets import load_cdnow
        from clv.features.behaviour import customer_features

        model = load_candidate({str(tmp_path / "model")!r})
        features = customer_features(load_cdnow(), as_of="1998-06-30", time_unit="W")
        scores = model.predict(features, horizon=10)
        print(json.dumps({{"sklearn": sorted(m for m in sys.modules if m.startswith("sklearn")),
                          "clv": float(scores["clv"].sum())}}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["sklearn"] == []
    assert result["clv"] == pytest.approx(float(expected["clv"].sum()), rel=1e-12)
