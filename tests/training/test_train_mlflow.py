"""Training with MLflow: runs, registry versions, the champion gate, the pyfunc model.

Everything runs against a temporary SQLite store. The two trainings use BTYD kinds
only (deterministic and fast); the second one is restricted to kinds that are worse
on the same holdout, so the gate must keep the champion.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from clv.errors import CLVError, InvalidDataError, InvalidParameterError

pytestmark = [pytest.mark.mlflow, pytest.mark.slow]

mlflow = pytest.importorskip("mlflow")

DATES = {"calibration_end": "1997-09-30", "holdout_end": "1998-06-30", "time_unit": "W"}
FIRST_KINDS = ["baseline", "bg_nbd", "pareto_nbd"]
WORSE_KINDS = ["baseline", "bg_nbd"]  # pareto_nbd is the best of FIRST_KINDS on CDNOW


@pytest.fixture(scope="module")
def trained(tmp_path_factory, cdnow):
    """Two trainings of CDNOW in one temporary store."""
    from clv.training.train import train

    folder = tmp_path_factory.mktemp("store")
    uri = f"sqlite:///{folder}/mlflow.db"
    messages = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.chdir(folder)
        first = train(cdnow, **DATES, tracking_uri=uri, kinds=FIRST_KINDS, progress=messages.append)
        second = train(cdnow, **DATES, tracking_uri=uri, kinds=WORSE_KINDS)
    return {"uri": uri, "folder": folder, "first": first, "second": second, "messages": messages}


@pytest.fixture
def store(trained, monkeypatch):
    """Point MLflow's fluent API at the trained store for one test."""
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained["uri"])
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", trained["uri"])
    mlflow.set_tracking_uri(trained["uri"])
    mlflow.set_registry_uri(trained["uri"])
    yield trained
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


def client(uri):
    return mlflow.tracking.MlflowClient(tracking_uri=uri, registry_uri=uri)


def test_two_trainings_give_versions_1_and_2_and_the_gate_keeps_the_better_champion(trained):
    first, second = trained["first"], trained["second"]
    assert (first.version, second.version) == ("1", "2")
    assert first.best_model == "pareto_nbd" and second.best_model == "bg_nbd"
    assert first.promoted and first.decision.champion_version is None
    assert not second.promoted
    assert second.decision.champion_version == "1"
    # honest: the second model really is worse on the same holdout
    assert second.decision.challenger_score > second.decision.champion_score
    assert second.decision.champion_score == pytest.approx(first.decision.challenger_score)
    assert "worse than the champion" in second.decision.reason
    assert second.aliases == {"champion": "1", "challenger": "2"}

    registry = client(trained["uri"])
    assert str(registry.get_model_version_by_alias("clv", "champion").version) == "1"
    v2 = registry.get_model_version("clv", "2")
    assert v2.tags["clv.gate_decision"] == "kept"
    assert v2.tags["clv.kind"] == "bg_nbd"
    # registered through the client: linked to its run and to its logged model
    assert v2.run_id == second.parent_run_id
    assert v2.source == registry.get_logged_model(second.model_uri[8:]).artifact_location
    parent = registry.get_run(second.parent_run_id)
    assert parent.data.tags["clv.gate_decision"] == "kept"
    assert parent.data.metrics["gate.challenger_score"] == pytest.approx(
        second.decision.challenger_score
    )
    assert parent.data.metrics["gate.champion_score"] == pytest.approx(
        second.decision.champion_score
    )


def test_progress_and_summary(trained):
    messages = trained["messages"]
    assert any("comparing models" in m for m in messages)
    assert any(m.startswith("refitting pareto_nbd on all data up to 1998-06-30") for m in messages)
    assert messages[-1].startswith("Promoted: no champion yet")
    summary = trained["second"].summary()
    assert "bg_nbd *" in summary
    assert "champion: clv@champion = version 1" in summary
    assert "mlflow ui --backend-store-uri sqlite:///" in summary


def test_parent_and_child_runs(trained):
    from clv.training.evaluation import METRIC_NAMES

    first = trained["first"]
    registry = client(trained["uri"])
    parent = registry.get_run(first.parent_run_id)
    assert parent.data.tags["clv.best_model"] == "pareto_nbd"
    assert parent.data.params["package.mlflow"] == mlflow.__version__
    assert parent.data.params["calibration_end"] == "1997-09-30"
    [dataset_input] = parent.inputs.dataset_inputs
    assert len(dataset_input.dataset.digest) == 32
    assert {tag.key: tag.value for tag in dataset_input.tags}["n_rows"] == "6919"
    parent_files = {item.path for item in registry.list_artifacts(first.parent_run_id)}
    assert {"comparison.csv", "comparison.md", "cohorts.csv"} <= parent_files
    parent_plots = {item.path for item in registry.list_artifacts(first.parent_run_id, "plots")}
    assert "plots/cohort_active_rate.png" in parent_plots
    table = pd.read_csv(
        mlflow.artifacts.download_artifacts(
            run_id=first.parent_run_id, artifact_path="comparison.csv", tracking_uri=trained["uri"]
        ),
        index_col="model",
    )
    assert list(table.index) == FIRST_KINDS

    children = registry.search_runs(
        [first.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{first.parent_run_id}'"
    )
    assert sorted(run.data.tags["clv.model"] for run in children) == sorted(FIRST_KINDS)
    for run in children:
        assert set(METRIC_NAMES) - {"holdout_auc_churn"} <= set(run.data.metrics)
        plots = {item.path for item in registry.list_artifacts(run.info.run_id, "plots")}
        assert "plots/spend_gain_curve.png" in plots
        assert "diagnostics.json" in {i.path for i in registry.list_artifacts(run.info.run_id)}
    bg = next(run for run in children if run.data.tags["clv.model"] == "bg_nbd")
    assert any(name.startswith("fit.") for name in bg.data.metrics)


def test_btyd_children_log_summary_independence_and_coverage(trained):
    first = trained["first"]
    registry = client(trained["uri"])
    children = registry.search_runs(
        [first.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{first.parent_run_id}'"
    )
    for run in children:
        kind = run.data.tags["clv.model"]
        metrics = run.data.metrics
        files = {item.path for item in registry.list_artifacts(run.info.run_id)}
        if kind == "baseline":
            assert "coverage.pit_90" not in metrics
            continue
        for name in ("estimate", "standard_error", "lower_95", "upper_95"):
            assert f"fit.summary.alpha.{name}" in metrics
        assert metrics["fit.summary.alpha.standard_error"] > 0
        assert metrics["fit.aic"] > 0 and metrics["fit.bic"] > metrics["fit.aic"]
        assert metrics["fit.spend_frequency_correlation"] == pytest.approx(0.206, abs=1e-3)
        assert 0.85 < metrics["coverage.pit_90"] < 0.92
        assert metrics["coverage.customers"] == 2357
        assert "holdout_count_histogram.csv" in files
        plots = {item.path for item in registry.list_artifacts(run.info.run_id, "plots")}
        assert "plots/holdout_count_histogram.png" in plots


def _model_dir(trained, version):
    return Path(
        mlflow.artifacts.download_artifacts(
            f"models:/clv/{version}",
            dst_path=str(trained["folder"] / f"download-{version}"),
            tracking_uri=trained["uri"],
        )
    )


def test_model_folder_holds_no_pickle(store):
    trained = store
    folder = _model_dir(trained, "1")
    files = [path for path in folder.rglob("*") if path.is_file()]
    assert (folder / "artifacts" / "candidate" / "candidate.json").exists()
    assert (folder / "code" / "clv" / "mlflow_model" / "pyfunc_model.py").exists()
    for path in files:
        assert path.suffix not in (".pkl", ".pickle", ".cloudpickle", ".joblib", ".pyc"), path
        head = path.read_bytes()[:2]
        assert not (head[:1] == b"\x80" and head[1:2] in b"\x02\x03\x04\x05"), path
    requirements = (folder / "requirements.txt").read_text().split()
    assert f"mlflow=={mlflow.__version__}" in requirements
    assert all("==" in line for line in requirements)
    metadata = json.loads((folder / "artifacts" / "metadata.json").read_text())
    assert metadata["kind"] == "pareto_nbd" and metadata["time_unit"] == "W"
    assert metadata["trained_until"] == "1998-06-30" and metadata["horizon"] == 39.0


def test_signature_has_features_outputs_and_params(store):
    trained = store
    from mlflow.models import get_model_info

    info = get_model_info(trained["first"].model_uri)
    signature = info.signature
    assert signature.inputs.input_names()[:5] == [
        "customer_id",
        "frequency",
        "recency",
        "T",
        "monetary_value",
    ]
    assert signature.outputs.input_names() == [
        "customer_id",
        "expected_purchases",
        "probability_alive",
        "churn_probability",
        "expected_spend",
        "clv",
        "purchases_lower",
        "purchases_upper",
        "clv_lower",
        "clv_upper",
        "interval",
        "margin",
        "segment",
        "action",
    ]
    optional = [spec.name for spec in signature.outputs.inputs if not spec.required]
    assert optional == ["purchases_lower", "purchases_upper", "clv_lower", "clv_upper", "interval"]
    defaults = {spec.name: spec.default for spec in signature.params}
    assert defaults == {"horizon": 39.0, "discount_rate": 0.0, "margin": 1.0, "interval": None}
    assert info.saved_input_example_info is not None


def test_champion_loads_and_predicts_in_a_fresh_process(store, cdnow, tmp_path):
    trained = store
    from clv.features.behaviour import customer_features

    # clv's feature table as it is (integer counts, every column), no conversion
    features = customer_features(cdnow, as_of="1998-06-30", time_unit="W")
    features.to_parquet(tmp_path / "features.parquet")
    script = textwrap.dedent(
        """
        import sys, mlflow, pandas as pd
        model = mlflow.pyfunc.load_model("models:/clv@champion")
        features = pd.read_parquet(sys.argv[1])
        out = model.predict(features, params={"horizon": 52.0, "discount_rate": 0.1})
        out.to_parquet(sys.argv[2])
        import clv
        print(clv.__file__)
        """
    )
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": trained["uri"],
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "features.parquet"), str(tmp_path / "o.pq")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # the model is self-contained: a fresh process imports clv from the model's code copy
    assert f"{os.sep}code{os.sep}clv{os.sep}__init__.py" in done.stdout
    scored = pd.read_parquet(tmp_path / "o.pq")
    assert len(scored) == 2357
    assert scored["customer_id"].tolist() == features["customer_id"].tolist()
    assert scored["probability_alive"].between(0, 1).all()
    assert scored["churn_probability"].between(0, 1).all()
    assert (scored["clv"] >= 0).all() and scored["segment"].notna().all()
    # same answers in this process
    model = mlflow.pyfunc.load_model(
        "models:/clv/1",
    )
    here = model.predict(features, params={"horizon": 52.0, "discount_rate": 0.1})
    pd.testing.assert_frame_equal(here, scored, check_dtype=False)


def test_model_checks_its_input(store, cdnow):
    from clv.features.behaviour import customer_features

    model = mlflow.pyfunc.load_model("models:/clv/1")
    features = customer_features(cdnow, as_of="1998-06-30", time_unit="W").head(4)
    features = features.astype({"frequency": "float64"})
    good = model.predict(features)
    assert len(good) == 4
    bad = features.copy()
    bad.loc[1, "frequency"] = 2.5
    with pytest.raises(InvalidDataError, match=r"'frequency'.*1 row is fractional"):
        model.predict(bad)
    # segments do not move with the query horizon (they use the stored defaults)
    longer = model.predict(features, params={"horizon": 104.0})
    assert longer["segment"].tolist() == good["segment"].tolist()
    assert (longer["expected_purchases"] >= good["expected_purchases"]).all()
    with pytest.raises(InvalidParameterError, match="'horizon' parameter"):
        model.unwrap_python_model().predict(None, features, params={"horizon": -1.0})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda f: f.drop(columns=["recency", "T"]),
            r"lacks 2 of the \d+ feature column\(s\): 'recency', 'T'",
        ),
        (
            lambda f: f.assign(frequency=["x", 1, 2, 3]),
            r"column 'frequency': 1 row is not numeric \(customers e.g. 1\)",
        ),
        (
            lambda f: f.assign(monetary_value=[np.nan, np.nan, 1.0, 2.0]),
            r"column 'monetary_value': 2 rows are null",
        ),
        (lambda f: f.assign(frequency=[-1, 0, 0, 0]), r"column 'frequency': 1 row is negative"),
        (lambda f: f.assign(frequency=[0.5, 0, 0, 0]), r"1 row is fractional"),
        (lambda f: f.assign(recency=f["T"] + 1), r"4 customers have recency > T \(e.g. 1, 2, 3\)"),
        (lambda f: f.assign(T=[-1.0, 1, 1, 1], recency=0.0), r"column 'T': 1 row is negative"),
        (
            lambda f: f.assign(monetary_value=[-5.0, 0, 0, 0]),
            r"column 'monetary_value': 1 row is negative",
        ),
        (lambda f: f.assign(spend_28d=[-5.0, 0, 0, 0]), r"column 'spend_28d': 1 row is negative"),
        (lambda f: f.head(0), r"no rows"),
        (lambda f: f.assign(customer_id=[None, 2, 3, 4]), r"null customer id \(rows 0\)"),
    ],
)
def test_validate_features_names_the_problem(cdnow, change, message):
    from clv.features.behaviour import FEATURE_COLUMNS, customer_features
    from clv.mlflow_model.validation import validate_features

    features = customer_features(cdnow, as_of="1998-06-30", time_unit="W").head(4)
    columns = list(features.columns)
    nonnegative = [c for c in FEATURE_COLUMNS[1:] if c != "trend"]
    checked = validate_features(features, columns=columns, nonnegative=nonnegative)
    assert checked["frequency"].dtype == np.int64
    with pytest.raises(InvalidDataError, match=message):
        validate_features(change(features), columns=columns, nonnegative=nonnegative)


def test_promote_by_hand_overrides_the_gate(trained):
    from clv.training.registry import promote

    uri = trained["uri"]
    assert promote("clv", "2", tracking_uri=uri) == "1"
    assert str(client(uri).get_model_version_by_alias("clv", "champion").version) == "2"
    assert promote("clv", 1, tracking_uri=uri) == "2"
    assert str(client(uri).get_model_version_by_alias("clv", "champion").version) == "1"
    with pytest.raises(CLVError, match="has no version 9"):
        promote("clv", "9", tracking_uri=uri)


@pytest.mark.parametrize("uri", ["mlruns", "file:///tmp/mlruns", "./somewhere"])
def test_the_deprecated_file_store_is_refused(uri):
    from clv.training.tracking import resolve_tracking_uri

    with pytest.raises(InvalidParameterError, match="deprecated file store"):
        resolve_tracking_uri(uri)


@pytest.mark.parametrize("uri", ["databricks", "databricks-uc", "databricks://profile"])
def test_databricks_workspace_stores_are_accepted(uri):
    from clv.training.tracking import resolve_tracking_uri

    assert resolve_tracking_uri(uri) == uri


def test_default_store_is_sqlite_in_the_working_directory(tmp_path, monkeypatch):
    from clv.training.tracking import artifact_location_for, resolve_tracking_uri

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    uri = resolve_tracking_uri(None)
    assert uri == f"sqlite:///{tmp_path.resolve().as_posix()}/mlflow.db"
    assert artifact_location_for(uri) == (tmp_path.resolve() / "mlartifacts").as_uri()
    assert artifact_location_for("http://127.0.0.1:5000") is None
