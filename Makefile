# kith: `make demo` runs the demo, `make test` runs every check. Both install what they need.
SHELL := /bin/bash
PYTHON ?= python3
export UV_PYTHON_DOWNLOADS := never
export UV_PYTHON := $(PYTHON)

# uv from PATH if present, else a private copy installed from PyPI into .venv-uv/.
UV := $(shell command -v uv 2>/dev/null || echo .venv-uv/bin/uv)
KITH := .venv/bin/kith
# Options for `kith demo`, e.g. make demo DEMO_ARGS="--users 150 --port 8123".
DEMO_ARGS ?=
VENDOR_STAMP := src/kith/web/static/vendor/.stamp

.PHONY: demo test lint typecheck pytest install install-dev vendor serve clean help

help:
	@echo "make demo   install, migrate, seed the demo world and serve http://127.0.0.1:8000"
	@echo "make test   install, then ruff, mypy (strict) and the whole pytest suite"

.venv-uv/bin/uv:
	$(PYTHON) -m venv .venv-uv
	.venv-uv/bin/python -m pip install --quiet --disable-pip-version-check uv

install: $(if $(findstring .venv-uv,$(UV)),.venv-uv/bin/uv)
	$(UV) sync --frozen --inexact

install-dev: $(if $(findstring .venv-uv,$(UV)),.venv-uv/bin/uv)
	$(UV) sync --frozen --inexact --all-extras

$(VENDOR_STAMP): scripts/vendor.py scripts/vendor.json
	$(PYTHON) scripts/vendor.py

vendor: $(VENDOR_STAMP)

demo: install vendor
	$(KITH) demo $(DEMO_ARGS)

serve: install vendor
	$(KITH) serve

lint: install-dev
	.venv/bin/ruff check src tests bench scripts
	.venv/bin/ruff format --check src tests bench scripts

typecheck: install-dev
	.venv/bin/mypy

pytest: install-dev vendor
	.venv/bin/pytest -n auto --dist loadfile

test: lint typecheck pytest

clean:
	rm -rf .venv .venv-uv .pytest_cache .mypy_cache .ruff_cache src/kith/web/static/vendor
