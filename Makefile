# Every target bootstraps what it needs, so `make demo` and `make test` work on a fresh clone.
# Virtual environments are built from the pinned locks in requirements/ (with uv when it is on PATH,
# else with pip); a venv is rebuilt when its lock or pyproject.toml changes.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
UV := $(shell command -v uv 2>/dev/null)
VENV := .venv
VENV2 := .venv-airflow2
LOCK := requirements/airflow-3.3.txt
LOCK2 := requirements/airflow-2.11.txt
PYTEST_FLAGS ?= -q -p no:cacheprovider
# Parallel mutmut workers for `make mutate` (MUTATE_JOBS=1 leaves a core to the rest of the machine).
MUTATE_JOBS ?= $(shell nproc 2>/dev/null || echo 2)

export PIP_DISABLE_PIP_VERSION_CHECK := 1

# $(call venv,<dir>,<lock>)
define venv
	rm -rf $(1)
	if [ -n "$(UV)" ]; then \
		$(UV) venv -q --python "$(PYTHON)" $(1) && VIRTUAL_ENV=$(CURDIR)/$(1) $(UV) pip install -q -r $(2); \
	else \
		"$(PYTHON)" -m venv $(1) && $(1)/bin/pip install -q -r $(2); \
	fi
	touch $(1)/.installed
endef

.PHONY: help
help:
	@echo "make demo     run the example DAG on the bundled Zoho sandbox and show the partitions"
	@echo "make test     lint, type-check and run every test suite (Airflow 3.3 and 2.11)"
	@echo "make bench    run the benchmarks (python bench/run.py --quick)"
	@echo "make mutate   mutation testing of the unit tests, score per module (tens of minutes; docs/testing.md)"
	@echo "make lock     re-resolve the pinned test environments in requirements/"
	@echo "make clean    remove the virtual environments and build output"

$(VENV)/.installed: $(LOCK) pyproject.toml
	$(call venv,$(VENV),$(LOCK))

$(VENV2)/.installed: $(LOCK2) pyproject.toml
	$(call venv,$(VENV2),$(LOCK2))

.PHONY: venv
venv: $(VENV)/.installed $(VENV2)/.installed

.PHONY: demo
demo: $(VENV)/.installed
	$(VENV)/bin/python scripts/demo.py

.PHONY: lint
lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

.PHONY: test-unit
test-unit: $(VENV)/.installed
	$(VENV)/bin/python -m pytest tests/unit $(PYTEST_FLAGS)

.PHONY: test-integration
test-integration: $(VENV)/.installed
	$(VENV)/bin/python -m pytest tests/integration $(PYTEST_FLAGS)

.PHONY: test-airflow2
test-airflow2: $(VENV2)/.installed
	$(VENV2)/bin/python -m pytest tests/unit $(PYTEST_FLAGS)
	$(VENV2)/bin/python -m pytest tests/integration $(PYTEST_FLAGS)

.PHONY: test-e2e
test-e2e: $(VENV)/.installed
	$(VENV)/bin/python -m pytest tests/e2e $(PYTEST_FLAGS)

.PHONY: test-airflow3
test-airflow3: test-unit test-integration

# The unit and integration suites of Airflow 3.3 and 2.11 run two at a time (each in its own AIRFLOW_HOME,
# ports chosen by the OS): much of their time is spent waiting on loopback HTTP, so two cores finish them
# in little more than half the serial time. Each suite's output is printed whole when it ends.
.PHONY: test
test: lint
	$(MAKE) --no-print-directory -j2 --output-sync=target test-airflow3 test-airflow2
	$(MAKE) --no-print-directory test-e2e

# Not part of `make test`: it takes tens of minutes. Always a full run: mutmut keeps the verdict of a mutant
# whose function did not change, even when the tests did, so a kept mutants/ could report stale survivors.
.PHONY: mutate
mutate: $(VENV)/.installed
	rm -rf mutants
	$(VENV)/bin/mutmut run --max-children $(MUTATE_JOBS)
	@echo
	$(VENV)/bin/python scripts/mutation_report.py

.PHONY: bench
bench: $(VENV)/.installed
	$(VENV)/bin/python bench/run.py --quick

.PHONY: lock
lock:
	@command -v uv >/dev/null || { echo "make lock needs uv (pip install uv)"; exit 1; }
	uv pip compile --quiet --python-version 3.11 --no-header --no-annotate requirements/airflow-3.3.in -o $(LOCK)
	uv pip compile --quiet --python-version 3.11 --no-header --no-annotate requirements/airflow-2.11.in -o $(LOCK2)

.PHONY: clean
clean:
	rm -rf $(VENV) $(VENV2) .demo build dist *.egg-info .mypy_cache .ruff_cache mutants
