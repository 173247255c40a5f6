# The two fresh-machine commands (README):
#   make demo   install, then run the main job on the built-in demo partnership
#   make test   install, then run the test suite (what .ci/run calls)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: install browser demo test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $(STAMP)

install: $(STAMP)

# Headless Chromium renders the HTML drafts in one test; as root on Debian/Ubuntu it is
# installed from the distribution's packages, elsewhere that test is skipped with a note.
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
	    || command -v google-chrome >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Chromium (apt-get) for the HTML rendering test"; \
	    apt-get update -qq >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
	    echo "note: no Chromium; the test that renders an HTML draft in a browser is skipped"; \
	fi

demo: install
	$(BIN)/cspanalysis demo

test: install browser
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
	$(BIN)/python bench/hotspots.py
	$(BIN)/python bench/batch.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache data/cache
