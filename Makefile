# Quick start: `make run` (conformance suite on the emulators, writes the report) and
# `make test` (the harness's own tests). Both set everything up on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: run test test-matrix lint setup system-deps clean allure

$(BIN)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(BIN)/.installed

system-deps:
	./scripts/system-deps

run: setup
	$(BIN)/bwc run $(ARGS)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/mypy

test: setup system-deps lint
	$(BIN)/python -m pytest -n 3 --dist loadgroup -m "not matrix" $(ARGS)

# the full profile matrix (about 30 min on 2 cores): every built-in profile through the whole
# suite, 20 RF seeds on every conformant profile
test-matrix: setup system-deps
	$(BIN)/python -m pytest -n 3 --dist loadgroup -m matrix $(ARGS)

allure: setup
	$(BIN)/bwc report --allure $(RUN)

clean:
	rm -rf $(VENV) runs
