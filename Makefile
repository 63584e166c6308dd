# One command to set up and run, one to test: both work on a fresh clone with only Python installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test lint bench study studies clean

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

# Every study of docs/studies.md, each rewriting only its own section (see scripts/study_all.py --list for
# each one's expected run time). One study: make studies ONLY=glorot (or ONLY="glorot selu");
# the sections again from the existing runs: make studies TABLE_ONLY=1
STUDY_JOBS ?= 2
studies: $(STAMP)
	nice -n 10 $(BIN)/python scripts/study_all.py --jobs $(STUDY_JOBS) $(if $(ONLY),--only $(ONLY)) $(if $(TABLE_ONLY),--table-only)

# The activation and optimizer studies (about 10-15 minutes on 2 free cores); tables in runs/studies/study.md
study: $(STAMP)
	$(BIN)/python scripts/study.py --runs-dir runs/studies
