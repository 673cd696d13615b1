"""The one place clv talks to MLflow: explicit clients, no fluent call, no private MLflow state."""

import ast
import os
from pathlib import Path

import pytest

mlflow = pytest.importorskip("mlflow")

CLV = Path(__file__).resolve().parents[2] / "clv"
VARIABLE = "MLFLOW_TRACKING_URI"


@pytest.fixture
def clean(monkeypatch):
    """No tracking URI set, in MLflow or in the environment; cleared again afterwards."""
    monkeypatch.delenv(VARIABLE, raising=False)
    mlflow.set_tracking_uri(None)
    yield
    mlflow.set_tracking_uri(None)


@pytest.mark.mlflow
def test_train_leaves_the_callers_tracking_uri_and_active_run_alone(clean, cdnow, tmp_path):
    from clv.training.train import train

    own = f"sqlite:///{tmp_path / 'own.db'}"
    store = f"sqlite:///{tmp_path / 'store.db'}"
    mlflow.set_tracking_uri(own)
    variable = os.environ.get(VARIABLE)
    with mlflow.start_run() as active:
        result = train(
            cdnow,
            calibration_end="1997-09-30",
            holdout_end="1998-06-30",
            tracking_uri=store,
            kinds=["bg_nbd"],
        )
        assert mlflow.get_tracking_uri() == own
        assert mlflow.active_run().info.run_id == active.info.run_id
    assert mlflow.active_run() is None and os.environ.get(VARIABLE) == variable
    # Every run of the training is in its store, none in the caller's.
    ours = mlflow.search_runs(search_all_experiments=True, output_format="list")
    assert [run.info.run_id for run in ours] == [active.info.run_id]
    client = mlflow.MlflowClient(store)
    runs = client.search_runs([result.experiment_id])
    assert {run.info.run_id for run in runs} == {
        result.parent_run_id,
        *result.child_run_ids.values(),
    }
    assert {run.info.status for run in runs} == {"FINISHED"}


_FLUENT = {
    "start_run", "end_run", "active_run", "set_tracking_uri", "set_registry_uri",
    "set_experiment", "set_tag", "set_tags", "log_param", "log_params", "log_metric",
    "log_metrics", "log_text", "log_dict", "log_figure", "log_image", "log_artifact",
    "log_artifacts", "log_input", "log_inputs", "log_table", "log_model", "autolog",
}  # fmt: skip


def test_clv_calls_no_fluent_mlflow_function():
    """No ``mlflow.<fluent>(...)`` nor ``mlflow.<flavor>.log_model(...)`` call in clv."""
    found = []
    for path in sorted(CLV.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                base = node.func.value
                while isinstance(base, ast.Attribute):
                    base = base.value
                name = ast.unparse(node.func)
                if isinstance(base, ast.Name) and base.id == "mlflow":
                    if node.func.attr in _FLUENT:
                        found.append(f"{path.relative_to(CLV)}: {name}")
    assert found == []


def _private_mlflow_names(path):
    """Private names (``_x``) reached in MLflow by the imports and attributes of a file."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "mlflow":
            names = node.module.split(".") + [alias.name for alias in node.names]
            found += [f"{node.module}: {n}" for n in names if n.startswith("_")]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "mlflow":
                    found += [alias.name for n in parts if n.startswith("_")]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in {"mlflow", "scoring_server", "utils"}:
                found.append(f"{ast.unparse(node)}")
    return found


def test_clv_reaches_no_private_mlflow_name():
    found = {
        str(path.relative_to(CLV)): names
        for path in sorted(CLV.rglob("*.py"))
        if (names := _private_mlflow_names(path))
    }
    assert found == {}
