# The two commands of the README: `make demo` and `make test`. Both bootstrap .venv first.
SHELL := /bin/bash
ENV := source scripts/env.sh

.PHONY: demo test bench venv pin

venv:
	@scripts/bootstrap.sh

demo: venv
	@$(ENV) && python -m zoom_sam_demo

test: venv
	@$(ENV) && python -m pytest $(PYTEST_ARGS)

bench: venv
	@$(ENV) && python -m bench $(BENCH_ARGS)

pin:
	@scripts/pin.sh
