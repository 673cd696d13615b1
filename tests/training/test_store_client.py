"""The one place clv talks to MLflow: a scoped fluent URI, no private MLflow state."""

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


def _inside_and_after(uri):
    from clv.training.store_client import fluent_tracking

    with fluent_tracking(uri) as used:
        inside = (used, mlflow.get_tracking_uri(), os.environ.get(VARIABLE))
    return inside, (mlflow.get_tracking_uri(), os.environ.get(VARIABLE))


def test_fluent_tracking_restores_an_unset_uri(clean, tmp_path):
    uri = f"sqlite:///{tmp_path}/a.db"
    before = mlflow.get_tracking_uri()
    inside, after = _inside_and_after(uri)
    assert inside == (uri, uri, uri)
    assert after == (before, None)
    assert not mlflow.tracking.is_tracking_uri_set()


def test_fluent_tracking_restores_the_environment_variable(clean, monkeypatch, tmp_path):
    monkeypatch.setenv(VARIABLE, f"sqlite:///{tmp_path}/env.db")
    inside, after = _inside_and_after(f"sqlite:///{tmp_path}/a.db")
    assert inside[1] == f"sqlite:///{tmp_path}/a.db"
    assert after == (f"sqlite:///{tmp_path}/env.db", f"sqlite:///{tmp_path}/env.db")


def test_fluent_tracking_restores_a_uri_set_in_mlflow(clean, monkeypatch, tmp_path):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path}/set.db")
    monkeypatch.setenv(VARIABLE, f"sqlite:///{tmp_path}/other.db")  # differs from the setting
    inside, after = _inside_and_after(f"sqlite:///{tmp_path}/a.db")
    assert inside[1] == f"sqlite:///{tmp_path}/a.db"
    assert after == (f"sqlite:///{tmp_path}/set.db", f"sqlite:///{tmp_path}/other.db")


def test_fluent_tracking_restores_after_an_error(clean, tmp_path):
    from clv.training.store_client import fluent_tracking

    with pytest.raises(RuntimeError), fluent_tracking(f"sqlite:///{tmp_path}/a.db"):
        raise RuntimeError("stop")
    assert not mlflow.tracking.is_tracking_uri_set()


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
