"""The Examples sections of clv's docstrings run and print what they say."""

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import clv

ROOT = Path(clv.__file__).resolve().parent
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages([str(ROOT)], prefix="clv.")
    if ">>>"
    in (
        ROOT.parent / (info.name.replace(".", "/") + ("/__init__.py" if info.ispkg else ".py"))
    ).read_text()
)


def test_some_modules_have_examples():
    assert len(MODULES) >= 5


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"
