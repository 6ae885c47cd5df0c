# Two commands matter: `make demo` and `make test`. Each builds its own virtual environment first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
ARGS ?=

.PHONY: demo test lint typecheck unit bench clean

$(BIN)/guardrail: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

demo: $(BIN)/guardrail  ## run the gate on the bundled examples: one allowed, one denied, one needing approval
	PATH="$(abspath $(BIN)):$$PATH" bash examples/demo.sh $(ARGS)

test: lint typecheck unit  ## the whole suite: lint, types, layer contracts, tests

lint: $(BIN)/guardrail
	$(BIN)/ruff check guardrail tests benchmarks
	$(BIN)/ruff format --check guardrail tests benchmarks
	$(BIN)/lint-imports

typecheck: $(BIN)/guardrail
	$(BIN)/mypy

unit: $(BIN)/guardrail
	$(BIN)/pytest -n auto $(ARGS)

bench: $(BIN)/guardrail  ## performance figures (see benchmarks/)
	$(BIN)/python benchmarks/check_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
