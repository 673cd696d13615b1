"""`clv report`: one self-contained HTML page of a real training run.

One training of CDNOW (BG/NBD and the baseline: the fastest candidates) into a
temporary SQLite store; the page is checked as text and rendered in a real headless
Chromium, which must load every embedded image.
"""

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest

from clv.errors import InvalidParameterError

pytestmark = [pytest.mark.mlflow, pytest.mark.slow]

mlflow = pytest.importorskip("mlflow")

DATES = {"calibration_end": "1997-09-30", "holdout_end": "1998-06-30", "time_unit": "W"}
KINDS = ["bg_nbd", "baseline"]
EXPERIMENT = 'report <b>&"test"'  # must come out escaped
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, cdnow):
    from clv.training.train import train

    folder = tmp_path_factory.mktemp("report-store")
    uri = f"sqlite:///{folder}/mlflow.db"
    source = folder / "cdnow.csv"
    cdnow[["customer_id", "timestamp", "amount"]].to_csv(source, index=False)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
        patch.delenv("MLFLOW_TRACKING_URI", raising=False)
        patch.chdir(folder)
        result = train(
            cdnow, **DATES, tracking_uri=uri, kinds=KINDS, experiment=EXPERIMENT, source=str(source)
        )
    return {
        "uri": uri,
        "folder": folder,
        "result": result,
        "n_customers": cdnow.customer_id.nunique(),
    }


@pytest.fixture(scope="module")
def page(trained):
    from clv.training.report import write_report

    path = write_report(
        trained["folder"] / "report.html",
        experiment=EXPERIMENT,
        tracking_uri=trained["uri"],
        currency="USD",
        acquisition_cost=20.0,
    )
    return path


def test_report_opens_with_the_decisions(trained, page):
    from clv.training.report import collect_report

    data = collect_report(experiment=EXPERIMENT, tracking_uri=trained["uri"])
    assert set(data.decisions) == {"headline", "segments", "new_customer", "retention"}
    head = data.decisions["headline"]["value"]
    assert head["customers"] == trained["n_customers"]
    assert head["total_clv"] == pytest.approx(data.segments["total_clv"].sum())
    text = page.read_text(encoding="utf-8")
    order = [
        "Part 1: decisions",
        "total revenue CLV over 39 weeks",
        "value at risk",
        "payback time of an acquisition cost of USD 20.00",
        "Segments and what to do",
        "Win back now",
        "What a new customer is worth",
        "retention what-if",
        "Part 2: model evidence",
        "bg_nbd: spend deciles",
        "Holdout comparison",
    ]
    positions = [text.find(marker) for marker in order]
    assert -1 not in positions, [m for m, p in zip(order, positions, strict=True) if p < 0]
    assert positions == sorted(positions)
    assert f"USD {head['total_clv']:,.0f}" in text


def test_report_holds_the_comparison_the_registry_decision_and_the_segments(trained, page):
    from clv.training.report import collect_report

    result = trained["result"]
    data = collect_report(experiment=EXPERIMENT, tracking_uri=trained["uri"])
    assert data.run_id == result.parent_run_id
    assert data.best_model == result.best_model == "bg_nbd"
    assert sorted(data.comparison.index) == sorted(KINDS)
    pd.testing.assert_series_equal(
        data.comparison["holdout_rmse_spend"].sort_index(),
        result.comparison["holdout_rmse_spend"].sort_index(),
        check_names=False,
        check_index_type=False,
    )
    assert data.aliases == {"champion": "1", "challenger": "1"}
    # every customer as of the holdout end is in exactly one segment
    assert int(data.segments["count"].sum()) == trained["n_customers"]
    assert data.segments["total_clv"].sum() > 0
    titles = [title for title, _ in data.images]
    assert "clv by segment" in titles and "bg_nbd: spend deciles" in titles
    assert all(png.startswith(b"\x89PNG") for _, png in data.images)

    text = page.read_text(encoding="utf-8")
    assert "bg_nbd (chosen)" in text
    assert "Promoted: no champion yet" in text
    assert "high value at risk" in text
    assert f"{int(data.segments['count'].sum()):,}" in text
    assert text.count('src="data:image/png;base64,') == len(data.images) >= 8
    # self-contained: no external resource, no script
    assert not re.search(r"""(src|href)=["'](?!data:)""", text)
    assert "<script" not in text
    # text from the store is escaped
    assert "<b>" not in text and "report &lt;b&gt;&amp;&#34;test&#34;" in text


def test_report_shows_the_model_diagnostics(trained, page):
    from clv.training.report import collect_report

    data = collect_report(experiment=EXPERIMENT, tracking_uri=trained["uri"])
    diagnostics = data.diagnostics
    assert list(diagnostics.index) == ["bg_nbd"]  # the baseline has no likelihood
    row = diagnostics.loc["bg_nbd"]
    # the summary: estimate (standard error) [95 % interval], log-likelihood, customers
    assert row["Parameters (SE) [95 %]"].startswith("r 0.24")
    assert re.search(r"alpha 4\.41\d* \(0\.\d+\) \[3\.\d+, 5\.\d+\]", row["Parameters (SE) [95 %]"])
    assert row["Customers"] == 2357
    assert row["Log-likelihood"] == pytest.approx(-9582.4, abs=0.1)  # the published value
    # the independence figure: CDNOW's Spearman 0.21 is under the 0.3 threshold
    assert 0.15 < row["Spend-frequency Spearman"] < 0.3 and row["Independence"] == "holds"
    assert 0.85 < row["PIT in [.05,.95] (0.90)"] < 0.92
    # the coverage as a table: customers by holdout purchases, actual and predicted
    histogram = diagnostics.attrs["count_histogram"]
    assert list(histogram.index) == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert list(histogram.columns) == ["actual", "bg_nbd predicted"]
    assert histogram["actual"].sum() == 2357
    assert histogram["bg_nbd predicted"].sum() == pytest.approx(2357, abs=1)
    text = page.read_text(encoding="utf-8")
    assert "Model diagnostics</h3>" in text and "Spend-frequency Spearman" in text
    assert "<th>Holdout purchases</th>" in text and "bg_nbd predicted" in text
    assert "Independence" in text and "[95 %]" in text
    assert "bg_nbd: holdout count histogram" in [title for title, _ in data.images]


def test_a_child_run_id_stands_for_its_training_run(trained):
    from clv.training.report import collect_report

    child = trained["result"].child_run_ids["baseline"]
    data = collect_report(child, tracking_uri=trained["uri"])
    assert data.run_id == trained["result"].parent_run_id


def test_the_segments_are_recomputed_for_a_run_that_did_not_record_them(trained):
    from clv.training.report import collect_report

    run = mlflow.tracking.MlflowClient(trained["uri"]).get_run(trained["result"].parent_run_id)
    artifact = Path(urlparse(run.info.artifact_uri).path) / "segment_summary.csv"
    recorded = pd.read_csv(artifact).set_index("segment")
    hidden = artifact.with_suffix(".hidden")
    artifact.rename(hidden)
    try:
        data = collect_report(run.info.run_id, tracking_uri=trained["uri"])
    finally:
        hidden.rename(artifact)
    assert data.segments_note.startswith("Recomputed: clv version 1 scoring")
    pd.testing.assert_series_equal(data.segments["count"], recorded["count"])
    pd.testing.assert_series_equal(data.segments["total_clv"], recorded["total_clv"], rtol=1e-9)


def test_cli_report_writes_the_page_and_refuses_an_unknown_run(trained, tmp_path, capsys):
    from clv.cli import main

    output = tmp_path / "out.html"
    with pytest.raises(SystemExit) as exit_info:
        main(
            [
                "report",
                "--tracking-uri",
                trained["uri"],
                "--experiment",
                EXPERIMENT,
                "--output",
                str(output),
            ]
        )
    assert exit_info.value.code == 0
    assert output.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert f"wrote {output}" in capsys.readouterr().out

    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--tracking-uri", trained["uri"], "--run-id", "0" * 32])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: No run '{'0' * 32}' in the store") and "\n" not in err

    with pytest.raises(InvalidParameterError, match="No experiment named 'nope'"):
        from clv.training.report import collect_report

        collect_report(experiment="nope", tracking_uri=trained["uri"])


# A probe appended to a copy of the page: after every image settled, it writes the
# result of each image into the DOM, which Chromium's --dump-dom prints.
PROBE = """
<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var out = document.createElement("pre");
  out.id = "image-check";
  out.textContent = JSON.stringify(images.map(function (img) {
    return {alt: img.alt, complete: img.complete, width: img.naturalWidth, height: img.naturalHeight};
  }));
  document.body.appendChild(out);
});
</script>
"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_every_image_loads_in_headless_chromium(page, tmp_path):
    probe = tmp_path / "probe.html"
    probe.write_text(
        page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8"
    )
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=5000",
        "--dump-dom",
        probe.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    match = re.search(r'<pre id="image-check">(.*?)</pre>', done.stdout, re.S)
    assert match, f"chromium exited {done.returncode}; stderr tail: {done.stderr[-1000:]}"
    images = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert len(images) >= 8
    broken = [image["alt"] for image in images if not (image["complete"] and image["width"] > 0)]
    assert not broken, f"images that did not load: {broken}"
    assert all(image["height"] > 0 for image in images)
