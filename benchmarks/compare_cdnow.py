"""Every model on the CDNOW holdout: the comparison table of the README.

Run: .venv/bin/python benchmarks/compare_cdnow.py [--kinds baseline bg_nbd ...]

Calibration to 1997-09-30 (weeks 1-39), holdout to 1998-06-30 (weeks 40-78), in
weeks (REFERENCE.md). Prints the Markdown table (the selected model marked), the
selection guards' verdict, and issue 4's acceptance checks against BG/NBD x
Gamma-Gamma and the baseline.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CAL, HOLD = "1997-09-30", "1998-06-30"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="*", default=None, help="model kinds (default: all)")
    args = parser.parse_args()

    from clv.datasets import load_cdnow
    from clv.training.compare import compare_models, comparison_table

    start = time.perf_counter()
    result = compare_models(
        load_cdnow(), calibration_end=CAL, holdout_end=HOLD, time_unit="W", kinds=args.kinds
    )
    elapsed = time.perf_counter() - start

    print(
        f"CDNOW sample, {len(result.actuals):,} customers; calibration to {CAL}, "
        f"holdout to {HOLD} ({result.horizon:g} weeks); {elapsed:.1f} s"
    )
    print()
    print(comparison_table(result), end="")
    print()
    print("Selection guards:")
    for kind, row in result.eligibility.iterrows():
        print(f"- {kind}: {'eligible' if row['eligible'] else row['reason']}")

    table, best = result.table, result.best
    checks = []
    if "bg_nbd" in table.index:
        bg = table.loc["bg_nbd"]
        checks.append(
            (
                f"RMSE spend {table.at[best, 'holdout_rmse_spend']:.2f} no worse than "
                f"bg_nbd's {bg['holdout_rmse_spend']:.2f}",
                table.at[best, "holdout_rmse_spend"] <= bg["holdout_rmse_spend"],
            )
        )
        gini = table.at[best, "holdout_gini_spend"]
        checks.append(
            (
                f"Gini spend {gini:.5f} no lower than bg_nbd's {bg['holdout_gini_spend']:.5f}",
                gini >= bg["holdout_gini_spend"],
            )
        )
    if "baseline" in table.index:
        ratio = table.at[best, "holdout_rmse_spend"] / table.at["baseline", "holdout_rmse_spend"]
        checks.append((f"RMSE spend {1 - ratio:.0%} better than baseline (>= 20%)", ratio <= 0.8))
    checks.append(
        (
            f"churn AUC {table.at[best, 'holdout_auc_churn']:.3f} >= 0.75",
            table.at[best, "holdout_auc_churn"] >= 0.75,
        )
    )
    print()
    print(f"Issue 4 checks for the selected model ({best}):")
    for text, ok in checks:
        print(f"- [{'x' if ok else ' '}] {text}")


if __name__ == "__main__":
    main()
