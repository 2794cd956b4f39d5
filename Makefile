# The two set-up commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Debian packages the tests drive for real (swaks as an SMTP client, unbound as the validating resolver
# for DANE, promtool from prometheus for the alert rules).
TEST_DEBS := swaks prometheus unbound
# Debian packages the benchmark uses (Postfix's smtp-source/smtp-sink and the Postfix baseline).
BENCH_DEBS := postfix

.PHONY: run test lint unit bench debs-test debs-bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/relay -c relay.yaml serve

debs-test:
	@bash scripts/apt-ensure $(TEST_DEBS)

debs-bench:
	@bash scripts/apt-ensure $(BENCH_DEBS)

lint: $(STAMP)
	$(BIN)/ruff check relay tests bench
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: $(STAMP) debs-test lint
	$(BIN)/pytest --cov --cov-report=term:skip-covered

bench: $(STAMP) debs-bench
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .coverage
