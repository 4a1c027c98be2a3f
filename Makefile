# Clinic — the two commands: `make demo` and `make test`. DATABASE_URL selects PostgreSQL for both.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
# First Python >= 3.12 found: python3.13, python3.12, pyenv's, then python3.
PYTHON_312 := $(shell for p in python3.13 python3.12 $(wildcard $(HOME)/.pyenv/versions/3.13*/bin/python) $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python) python3; do \
	if command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then command -v $$p; break; fi; done)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: demo test install install-test browser-deps migrate bench clean check

$(BIN)/python:
	@test -n "$(PYTHON_312)" || { echo "Python 3.12 or newer is needed (python3.12 / python3.13 on PATH, or pyenv)"; exit 1; }
	$(PYTHON_312) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25.1"

$(VENV)/.installed-app: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --group app
	@touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed-app
	$(BIN)/pip install --quiet --group test
	@touch $@

install: $(VENV)/.installed-app
install-test: $(VENV)/.installed-test

migrate: install
	DEBUG=1 $(BIN)/python manage.py migrate --noinput

demo: migrate
	DEBUG=1 $(BIN)/python manage.py demo_clinic
	@echo "Serving the demo clinic on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install-test browser-deps
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Browser tests drive Debian's Chromium; PDFs are read back with pdftotext (poppler-utils).
browser-deps:
	@command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils >/dev/null; \
	  else echo "Browser tests need: sudo apt-get install -y chromium poppler-utils"; exit 1; fi; }

check: install
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run

bench: install-test
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache
