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

DEMO_PLANS := examples/needs-approval/plan.json examples/denied/plan.json examples/allowed/plan.json
# A store is created on purpose (guardrail store init), never by a command that merely names it.
DEMO_STORE := sqlite:///$(abspath .guardrail/demo.db)

# At a terminal: the TUI on the bundled examples (the palette, ctrl+p, opens the other two; the Rollouts
# screen, 5, rehearses the December fleet guarded and naive side by side; the Nodes screen, 6, rehearses
# the outage pool). With ARGS=--no-tui, or without a terminal (CI), the gate runs on each example and the
# fleets and pools are rehearsed, each exit code checked.
demo: $(BIN)/guardrail  ## review the bundled examples in the TUI; ARGS=--no-tui runs the gate on each instead
	@if [ -t 0 ] && [ -t 1 ] && [ -z "$(findstring --no-tui,$(ARGS))" ]; then \
		PATH="$(abspath $(BIN)):$$PATH" guardrail store init --store "$(DEMO_STORE)" && \
		PATH="$(abspath $(BIN)):$$PATH" guardrail tui $(DEMO_PLANS) --config examples/guardrail.yaml \
			--store "$(DEMO_STORE)" --rehearse examples/rollout/december.yaml \
			--rehearse examples/nodes/outage.yaml $(ARGS); \
	else \
		PATH="$(abspath $(BIN)):$$PATH" bash examples/demo.sh $(filter-out --no-tui,$(ARGS)); \
	fi

test: lint typecheck unit  ## the whole suite: lint, types, layer contracts, tests

lint: $(BIN)/guardrail
	$(BIN)/ruff check guardrail tests benchmarks
	$(BIN)/ruff format --check guardrail tests benchmarks
	$(BIN)/lint-imports

typecheck: $(BIN)/guardrail  ## strict mypy on guardrail/, tests/ and benchmarks/ (the files pyproject.toml names)
	$(BIN)/mypy

unit: $(BIN)/guardrail
	$(BIN)/pytest -n auto $(ARGS)

bench: $(BIN)/guardrail  ## performance figures (see benchmarks/)
	$(BIN)/python benchmarks/check_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
