# The two fresh-machine commands (README):
#   make demo   install, then run the main job on the built-in demo partnership
#   make test   install, then run the test suite (what .ci/run calls)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install demo test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/cspanalysis demo

test: install
	$(BIN)/python -m ruff check cspanalysis tests bench
	$(BIN)/python -m pytest --doctest-modules cspanalysis tests

lint: install
	$(BIN)/python -m ruff check cspanalysis tests bench
	$(BIN)/python -m ruff format --check cspanalysis tests bench

format: install
	$(BIN)/python -m ruff format cspanalysis tests bench
	$(BIN)/python -m ruff check --fix cspanalysis tests bench

bench: install
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache data/cache
