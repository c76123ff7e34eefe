# Two commands for a fresh machine with only Python (see README):
#   make demo   set up, then run the batches of the bundled sample inbox
#   make test   set up, install and start the services the tests use
#               (scripts/services: PostgreSQL, Chromium, LibreOffice; needs
#               root and apt-get, else those tests skip), then run the tests
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed

.PHONY: demo test bench sample clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/reconcile run --batch 2026-10
	$(BIN)/reconcile run --batch 2026-11

test: $(STAMP)
	@scripts/services || echo "scripts/services failed; the tests that need its services will skip (under CI=true they fail)" >&2
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) outbox/20* build *.egg-info
