# Sourced by the Makefile targets: a project-local Airflow that never touches ~/airflow, running
# this checkout's code (src/ runtime, dev/ sandbox, demo and benchmarks) ahead of anything installed.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AIRFLOW_HOME="${ZOOM_SAM_AIRFLOW_HOME:-$root/.airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$root/dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__TEST_CONNECTION=Enabled
export PYTHONPATH="$root/src:$root/dev:$root${PYTHONPATH:+:$PYTHONPATH}"
export PATH="${ZOOM_SAM_VENV:-$root/.venv}/bin:$PATH"
