# One command to set up and run, one to test: both work on a fresh clone with only Python installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench study clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/mlrun train configs/quickstart.yaml

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check mlrun tests bench scripts
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python bench/bench_train.py
	$(BIN)/python bench/bench_cli.py
	$(BIN)/python bench/bench_compare.py
	$(BIN)/python bench/bench_lr_find.py
	$(BIN)/python bench/bench_sweep.py
	$(BIN)/python bench/bench_startup.py
	$(BIN)/python bench/bench_overhead.py
	$(BIN)/python bench/bench_figures.py

clean:
	rm -rf $(VENV) runs .pytest_cache

study-one-cycle: $(STAMP)
	$(BIN)/python scripts/study_one_cycle.py configs/studies/one_cycle.yaml

# multi-token prediction (about 2 CPU minutes); rewrites its section of docs/studies.md
study-mtp: $(STAMP)
	nice -n 10 $(BIN)/python scripts/study_mtp.py

# The activation and optimizer studies (about 10-15 minutes on 2 free cores); tables in runs/studies/study.md
study: $(STAMP)
	$(BIN)/python scripts/study.py --runs-dir runs/studies
