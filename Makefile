# The two commands of the README: `make demo` and `make test`. Both set everything up first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test typecheck lint bench clean system-deps

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	$(BIN)/corthex demo $(DEMO_FLAGS)

# Two processes, each taking whole files (module-scoped emulators and servers stay per file):
# most tests wait on processes and the emulator's clock, so the suite takes ~12 minutes, not ~20.
test: install system-deps typecheck
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

typecheck: install
	$(BIN)/mypy

system-deps:
	bash scripts/system-deps.sh

lint: install
	$(BIN)/ruff check src tests bench

bench: install
	$(BIN)/python bench/mixed_job.py

clean:
	rm -rf $(VENV) .corthex corthex.db* .pytest_cache .mypy_cache
