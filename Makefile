# The README's commands: `make demo`, `make test` and the others it lists; all but `pin` bootstrap .venv first.
SHELL := /bin/bash
ENV := source scripts/env.sh

.PHONY: demo ui test bench venv pin

venv:
	@scripts/bootstrap.sh

demo: venv
	@$(ENV) && python -m zoom_sam_demo

ui: venv
	@scripts/ui.sh

test: venv
	@$(ENV) && python -m pytest $(PYTEST_ARGS)

bench: venv
	@$(ENV) && python -m bench $(BENCH_ARGS)

pin:
	@scripts/pin.sh
