"""A logged model's bundled code is checked against its digest before serve or score run it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

import clv
from clv.errors import ModelLoadError
from clv.mlflow_model.code_digest import DIGEST_KEY, code_digest
from tests.serving.test_batch import _score_args as batch_score_args
from tests.serving.test_endpoint import clv_error_line


@pytest.fixture(scope="module")
def model_folder(trained, tmp_path_factory) -> Path:
    from clv.serving._models import download_model, resolve_model

    folder = tmp_path_factory.mktemp("integrity")
    return download_model(resolve_model(trained.model_uri, trained.tracking_uri), folder)


def _tampered(model_folder: Path, tmp_path: Path, change) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(model_folder, copy)
    change(copy)
    return copy


def _score_args(trained, output: Path, model_uri: str | None = None) -> list[str]:
    args = batch_score_args(trained, trained.cdnow_csv, output)
    if model_uri is not None:
        args[args.index("--model-uri") + 1] = model_uri
    return [str(arg) for arg in args]


def _append(path: Path) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write("\nraise SystemExit('tampered code ran')\n")


def test_mlmodel_records_the_digest_and_not_the_source_path(model_folder):
    text = (model_folder / "MLmodel").read_text(encoding="utf-8")
    description = yaml.safe_load(text)
    assert description["metadata"][DIGEST_KEY] == code_digest(model_folder)
    source = str(Path(clv.__file__).resolve().parent.parent)
    assert source not in text


@pytest.mark.parametrize(
    "change",
    [
        lambda folder: _append(folder / "code" / "clv" / "__init__.py"),
        lambda folder: _append(folder / "code" / "clv" / "mlflow_model" / "pyfunc_model.py"),
        lambda folder: (folder / "code" / "clv" / "evil.py").write_text("x = 1\n"),
        lambda folder: (folder / "code" / "sitecustomize.py").write_text("x = 1\n"),
        lambda folder: _append(folder / "pyfunc_model.py"),
        lambda folder: (folder / "code" / "clv" / "errors.py").unlink(),
    ],
    ids=["package", "bundled-model-file", "new-module", "new-top-module", "model-file", "removed"],
)
def test_a_tampered_model_is_refused_before_it_runs(model_folder, tmp_path, change):
    from clv.serving._models import load_pyfunc, verify_model_folder

    folder = _tampered(model_folder, tmp_path, change)
    with pytest.raises(ModelLoadError, match="digest mismatch"):
        verify_model_folder(folder)
    with pytest.raises(ModelLoadError, match="digest mismatch"):
        load_pyfunc(folder)


def test_bytecode_is_not_trusted_but_removed(model_folder, tmp_path):
    from clv.serving._models import verify_model_folder

    def add_bytecode(folder: Path) -> None:
        cache = folder / "code" / "clv" / "__pycache__"
        cache.mkdir(exist_ok=True)
        (cache / "errors.cpython-311.pyc").write_bytes(b"not what the source says")

    folder = _tampered(model_folder, tmp_path, add_bytecode)
    verify_model_folder(folder)
    assert not (folder / "code" / "clv" / "__pycache__").exists()


def test_a_model_without_a_digest_is_refused(model_folder, tmp_path):
    from clv.serving._models import verify_model_folder

    def strip(folder: Path) -> None:
        path = folder / "MLmodel"
        description = yaml.safe_load(path.read_text(encoding="utf-8"))
        del description["metadata"][DIGEST_KEY]
        path.write_text(yaml.safe_dump(description), encoding="utf-8")

    with pytest.raises(ModelLoadError, match="no digest"):
        verify_model_folder(_tampered(model_folder, tmp_path, strip))


def test_clv_serve_and_clv_score_refuse_a_tampered_model(trained, model_folder, tmp_path):
    folder = _tampered(
        model_folder, tmp_path, lambda f: _append(f / "code" / "clv" / "__init__.py")
    )
    tracking = ["--tracking-uri", trained.tracking_uri]
    line = clv_error_line("serve", "--model-uri", str(folder), "--port", "5999", *tracking)
    assert "digest mismatch" in line
    output = tmp_path / "scores.parquet"
    line = clv_error_line(*_score_args(trained, output, model_uri=str(folder)))
    assert "digest mismatch" in line
    assert not output.exists()


def test_rewritten_artifacts_of_a_registry_version_are_refused(trained, tmp_path):
    """Code and MLmodel digest rewritten together: the run's tag in the store catches it."""
    from mlflow.tracking import MlflowClient

    from clv.mlflow_model.code_digest import DIGEST_TAG

    (stored,) = [path.parent for path in trained.store.rglob("MLmodel")]
    client = MlflowClient(trained.tracking_uri)
    run_id = client.get_model_version("clv", trained.version).run_id
    mlmodel = stored / "MLmodel"
    description = yaml.safe_load(mlmodel.read_text(encoding="utf-8"))
    assert client.get_run(run_id).data.tags[DIGEST_TAG] == description["metadata"][DIGEST_KEY]
    package = stored / "code" / "clv" / "__init__.py"
    originals = {path: path.read_bytes() for path in (mlmodel, package)}
    try:
        _append(package)
        description["metadata"][DIGEST_KEY] = code_digest(stored)
        mlmodel.write_text(yaml.safe_dump(description), encoding="utf-8")
        output = tmp_path / "scores.parquet"
        line = clv_error_line(*_score_args(trained, output))
        assert "do not match its training run" in line
        assert not output.exists()
    finally:
        for path, data in originals.items():
            path.write_bytes(data)
