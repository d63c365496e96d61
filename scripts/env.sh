# Sourced by the Makefile targets: a project-local Airflow that never touches ~/airflow.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export AIRFLOW_HOME="${ZOOM_SAM_AIRFLOW_HOME:-$root/.airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="$root/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$root/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__TEST_CONNECTION=Enabled
export ZOOM_SAM_PROFILES_DIR="${ZOOM_SAM_PROFILES_DIR:-$root/include/profiles}"
export PATH="${ZOOM_SAM_VENV:-$root/.venv}/bin:$PATH"
