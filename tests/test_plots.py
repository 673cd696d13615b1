import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from clv.errors import InvalidDataError, InvalidParameterError

plots = pytest.importorskip("clv.plots")

from clv.features import calibration_holdout_split  # noqa: E402
from clv.models.beta_geo import BetaGeoModel  # noqa: E402
from clv.models.segments import SegmentRules  # noqa: E402
from clv.training.evaluation import holdout_actuals  # noqa: E402

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def split(cdnow):
    return calibration_holdout_split(
        cdnow, calibration_end="1997-09-30", holdout_end="1998-06-30", time_unit="W"
    )


@pytest.fixture(scope="module")
def bgnbd(split):
    return BetaGeoModel().fit(split[["customer_id", "frequency", "recency", "T"]])


@pytest.fixture(scope="module")
def holdout(split, bgnbd):
    actuals = holdout_actuals(split)
    # predictions keep the table's index; the holdout actuals are keyed by customer
    expected = bgnbd.expected_purchases(split, 39.0).set_axis(split["customer_id"])
    spend = expected * split["monetary_value"].replace(0, 35.0).to_numpy()
    churn = bgnbd.probability_no_purchase(split, 39.0).set_axis(split["customer_id"])
    return actuals, expected, spend, churn


def _check_png(path):
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC
    assert len(data) > 5_000


def test_probability_alive_matrix(tmp_path, bgnbd, split):
    fig = plots.probability_alive_matrix(bgnbd, split)
    _check_png(plots.save_figure(fig, tmp_path / "alive.png"))
    fig = plots.probability_alive_matrix(bgnbd, max_frequency=10, max_recency=30.0)
    _check_png(plots.save_figure(fig, tmp_path / "alive2.png"))
    with pytest.raises(InvalidParameterError, match="needs the customer table or both"):
        plots.probability_alive_matrix(bgnbd)
    with pytest.raises(InvalidParameterError, match="fitted continuous-time transaction model"):
        plots.probability_alive_matrix(object(), split)
    with pytest.raises(InvalidParameterError, match="not fitted yet"):
        plots.probability_alive_matrix(BetaGeoModel(), split)


def test_expected_vs_actual_by_frequency(tmp_path, bgnbd, split, holdout):
    fig = plots.expected_vs_actual_by_frequency(bgnbd, split)
    _check_png(plots.save_figure(fig, tmp_path / "by_frequency.png"))
    fig = plots.expected_vs_actual_by_frequency(holdout[1].rename("bg_nbd"), split, max_frequency=5)
    _check_png(plots.save_figure(fig, tmp_path / "by_frequency_series.png"))
    with pytest.raises(InvalidDataError, match="missing column\\(s\\) 'holdout_frequency'"):
        plots.expected_vs_actual_by_frequency(bgnbd, split.drop(columns="holdout_frequency"))


def test_cumulative_tracking(tmp_path, bgnbd, split, cdnow):
    fig = plots.cumulative_tracking(
        bgnbd, split, cdnow, calibration_end="1997-09-30", end="1998-06-30"
    )
    _check_png(plots.save_figure(fig, tmp_path / "tracking.png"))
    axes = fig.axes[0]
    actual, predicted = (line.get_ydata() for line in axes.get_lines()[:2])
    assert len(actual) == 78
    # published fact (REFERENCE.md): 2,457 calibration + 1,882 holdout repeat purchases
    assert actual[38] == 2457
    assert actual[-1] == 2457 + 1882
    # BG/NBD tracks the cumulative curve closely (Fader, Hardie & Lee 2005, Figure 3)
    assert predicted[-1] == pytest.approx(actual[-1], rel=0.05)
    with pytest.raises(InvalidParameterError, match="must be after 'calibration_end'"):
        plots.cumulative_tracking(
            bgnbd, split, cdnow, calibration_end="1997-09-30", end="1997-01-31"
        )


def test_holdout_comparison_plots(tmp_path, holdout):
    actuals, expected, spend, churn = holdout
    fig = plots.decile_chart(actuals["holdout_spend"], spend)
    _check_png(plots.save_figure(fig, tmp_path / "deciles.png"))
    fig = plots.gain_curve(actuals["holdout_spend"], {"bg_nbd": spend, "constant": spend * 0 + 1})
    _check_png(plots.save_figure(fig, tmp_path / "gain.png"))
    fig = plots.churn_reliability_curve(actuals["churned"], {"bg_nbd": churn})
    _check_png(plots.save_figure(fig, tmp_path / "reliability.png"))
    # arrays work too, aligned by position
    fig = plots.decile_chart(actuals["holdout_spend"].to_numpy(), spend.to_numpy())
    _check_png(plots.save_figure(fig, tmp_path / "deciles_arrays.png"))
    with pytest.raises(InvalidDataError, match="1 customers in 'actual' have no value"):
        plots.decile_chart(actuals["holdout_spend"], spend.iloc[1:])
    with pytest.raises(InvalidDataError, match="must lie in \\[0, 1\\]"):
        plots.churn_reliability_curve(actuals["churned"], churn * 2)


def test_clv_by_segment(tmp_path):
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"clv": rng.gamma(1.0, 50.0, 500), "churn_probability": rng.random(500)})
    table["segment"] = SegmentRules().fit_assign(table)
    fig = plots.clv_by_segment(table)
    _check_png(plots.save_figure(fig, tmp_path / "segments.png"))


def test_save_figure_other_formats_and_errors(tmp_path):
    fig = plots.gain_curve([1.0, 0.0, 3.0], [2.0, 1.0, 3.0])
    path = plots.save_figure(fig, tmp_path / "nested" / "gain.svg")
    assert path.read_text().lstrip().startswith("<?xml")
    with pytest.raises(InvalidParameterError, match="needs a matplotlib Figure"):
        plots.save_figure("not a figure", tmp_path / "x.png")


def test_matplotlib_is_not_imported_by_the_core_packages():
    code = (
        "import sys, clv, clv.models, clv.training, clv.training.evaluation, clv.metrics, "
        "clv.training.selection, clv.models.segments\n"
        "import clv.training.compare\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n"
        "import clv.plots\n"
        "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_plots_never_import_training():
    code = (
        "import sys, clv.plots\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('clv.training'))\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
