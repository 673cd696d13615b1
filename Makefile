# Two commands do everything on a fresh machine:  make demo  |  make test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean browser java

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/clv demo

# headless Chromium renders `clv report` in tests/training/test_report.py (Debian
# package; the test skips with a reason where it cannot be installed)
browser:
	@command -v chromium >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null) || \
	  echo "warning: chromium could not be installed; the report rendering test will skip"

# a Java runtime for the Spark tests (tests/spark: a local session and a standalone
# cluster started with pyspark's own spark-class; Debian package)
java:
	@command -v java >/dev/null 2>&1 || \
	  (apt-get update -qq && apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless >/dev/null) || \
	  echo "warning: Java could not be installed; the Spark tests will fail"

test: $(STAMP) browser java
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	MLFLOW_DISABLE_TELEMETRY=true $(BIN)/python -m pytest -q -n 2 --durations=15

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python benchmarks/features.py
	$(BIN)/python benchmarks/models.py

clean:
	rm -rf $(VENV) .pytest_cache mlflow.db mlruns mlartifacts
