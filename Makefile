# tribe-analysis: two commands from nothing (only Python 3.11+ and pip needed).
#   make demo   create .venv from requirements.lock if missing, then run the demo job
#   make test   create .venv the same way, then lint, type-check and run the whole test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TZ := UTC
export PYTHONHASHSEED := 0

.PHONY: demo test lab data notebooks lint lock clean

$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/tribe-analysis demo --out results/demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n auto --dist loadfile

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

# Regenerate the committed sample byte for byte (tests/test_data.py checks it).
data: $(STAMP)
	$(BIN)/tribe-analysis simulate --out data/sample --leaders 12 --days 21 --seed 7 --csv --mastodon

# Re-execute the notebooks in place (deterministic: an unchanged notebook keeps its bytes).
notebooks: $(STAMP)
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
	  --ExecutePreprocessor.kernel_name=python3 --ExecutePreprocessor.timeout=600 \
	  --ExecutePreprocessor.record_timing=False --ExecutePreprocessor.store_widget_state=False \
	  notebooks/*.ipynb

lint: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin requirements.lock from the current .venv (then update environment.yml to match).
lock: $(STAMP)
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e' > requirements.lock

clean:
	rm -rf $(VENV) results
