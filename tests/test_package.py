import json
import os
import subprocess
import sys
import textwrap

import pytest

HEAVY = ["mlflow", "xgboost", "pyspark", "matplotlib", "lifetimes"]


def test_import_is_light_and_changes_no_global_state():
    code = textwrap.dedent(
        f"""
        import json, sys, warnings
        import pandas as pd
        # third-party libraries add their own filters at import: load them first
        import scipy.optimize, scipy.special, scipy.stats, sklearn.base, sklearn.metrics
        filters = list(warnings.filters)
        options = {{k: pd.get_option(k) for k in ["mode.copy_on_write", "display.max_rows"] if True}}
        import clv, clv.features, clv.models, clv.datasets
        heavy = [m for m in {HEAVY!r} if m in sys.modules]
        same_filters = warnings.filters == filters
        same_options = options == {{k: pd.get_option(k) for k in options}}
        print(json.dumps({{"heavy": heavy, "filters": same_filters, "options": same_options}}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result == {"heavy": [], "filters": True, "options": True}


@pytest.mark.slow
def test_cli_demo_runs(tmp_path):
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    env.pop("MLFLOW_TRACKING_URI", None)
    out = subprocess.run(
        [sys.executable, "-m", "clv.cli", "demo"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "2,357 customers" in out.stdout
    assert "champion" in out.stdout
    assert (tmp_path / "mlflow.db").exists()


def test_cli_user_error_is_one_line_and_exit_2(tmp_path):
    from clv.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-command"])
    assert exit_info.value.code == 2


def test_the_console_entry_point_freezes_collection_at_its_end_only():
    """`clv` run as a process skips the exit's collections; main([...]) in-process does not."""
    import gc

    from clv.cli import main

    before = gc.get_freeze_count()
    with pytest.raises(SystemExit):
        main(["--help"])
    assert gc.get_freeze_count() == before
    code = (
        "import gc, sys\nfrom clv.cli import main\nsys.argv = ['clv', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\nprint(gc.get_freeze_count())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout.strip().splitlines()[-1]) > 0
