# The README's commands: `make demo`, `make test` and the others it lists; all but `pin` bootstrap .venv first.
SHELL := /bin/bash
ENV := source scripts/env.sh

.PHONY: demo ui test bench venv pin stack-test

venv:
	@scripts/bootstrap.sh

demo: venv
	@$(ENV) && python -m zoom_sam_demo

ui: venv
	@scripts/ui.sh

test: venv
	@scripts/test.sh $(PYTEST_ARGS)

# docker-compose.yaml's topology as processes, driven through the REST API (README, Deploying); `make test`
# runs it too. STACK_USERS sizes the Zoom account (default 600), STACK_PLAN its limits (pro | business).
stack-test: venv
	@$(ENV) && ZOOM_SAM_STACK_USERS=$(STACK_USERS) ZOOM_SAM_STACK_PLAN=$(STACK_PLAN) \
		python -m pytest tests/deploy/test_stack.py -s $(PYTEST_ARGS)

bench: venv
	@$(ENV) && python -m bench $(BENCH_ARGS)

pin:
	@scripts/pin.sh
