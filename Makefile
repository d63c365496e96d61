# The two commands of the README: `make demo` and `make test`. Both bootstrap .venv first.
SHELL := /bin/bash
ENV := source scripts/env.sh

.PHONY: demo test bench venv pin

venv:
	@scripts/bootstrap.sh

demo: venv
	@$(ENV) && python -m zoom_sam.demo

test: venv
	@$(ENV) && python -m pytest $(PYTEST_ARGS)

bench: venv
	@$(ENV) && python -m bench $(BENCH_ARGS)

pin:
	@rm -rf .pin-venv && python3.11 -m venv .pin-venv && .pin-venv/bin/pip install -q -r requirements.in \
	  && { echo '# Every package pinned: the full resolution of requirements.in on Python 3.11. Regenerate with `make pin`.'; \
	       .pin-venv/bin/pip freeze; } > requirements.txt && rm -rf .pin-venv
