#!/usr/bin/env bash
# `make ui`: the zoom-sam views inside a real Airflow UI, on the demo warehouse.
#
# 1. runs `make demo`'s DAG run first when the warehouse ($AIRFLOW_HOME/zoom_sam.db) holds no run,
#    so the pages have data to show;
# 2. writes the DAGs into the metadata database once (`airflow dags reserialize`): the Airflow UI
#    lists them and the views check a user's access to a profile's DAG there; no scheduler or
#    dag-processor keeps running, because looking needs neither;
# 3. starts `airflow api-server` on 127.0.0.1 with SimpleAuthManager and one user, admin, whose
#    password is the one in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated (made here
#    on the first start, kept afterwards), waits for its health endpoint and prints where to go.
# Ctrl-C stops the api-server (its own process group, so nothing it started outlives it).
# ZOOM_SAM_UI_PORT picks the port (default: 8080, or a free one when 8080 is taken).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
source scripts/env.sh
mkdir -p "$AIRFLOW_HOME"

has_run="$(python - <<'EOF'
import os, sqlite3
path = os.path.join(os.environ["AIRFLOW_HOME"], "zoom_sam.db")
try:
    found = os.path.exists(path) and sqlite3.connect(path).execute("SELECT count(*) FROM job_result").fetchone()[0] > 0
except sqlite3.Error:  # no job_result table yet: no run either
    found = False
print("yes" if found else "no")
EOF
)"
if [ "$has_run" = no ]; then
  echo "ui: the demo warehouse has no run yet: running the demo first" >&2
  python -m zoom_sam_demo
fi

echo "ui: writing the DAGs into the metadata database" >&2
airflow dags reserialize >"$AIRFLOW_HOME/ui-reserialize.log" 2>&1 || {
  tail -30 "$AIRFLOW_HOME/ui-reserialize.log" >&2; exit 1; }

export AIRFLOW__CORE__AUTH_MANAGER=airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=admin:admin
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS=False
read -r port password < <(python - <<'EOF'
import json, os, secrets, socket
from pathlib import Path
path = Path(os.environ["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated"
passwords = json.loads(path.read_text() or "{}") if path.exists() else {}
if "admin" not in passwords:  # the api-server keeps a password it finds; it generates only missing ones
    passwords["admin"] = secrets.token_urlsafe(12)
    path.write_text(json.dumps(passwords))
wanted = int(os.environ.get("ZOOM_SAM_UI_PORT") or 8080)
with socket.socket() as s:
    try:
        s.bind(("127.0.0.1", wanted))
    except OSError:
        if os.environ.get("ZOOM_SAM_UI_PORT"):
            raise SystemExit(f"ui: port {wanted} is taken")
        s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1], passwords["admin"])
EOF
)
# Tasks are not run from here, but a component that would (a triggered run) must find this server.
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$port/execution/"

log="$AIRFLOW_HOME/ui-api-server.log"
setsid airflow api-server --host 127.0.0.1 --port "$port" --workers 1 >"$log" 2>&1 &
server=$!
stop() {
  trap - INT TERM EXIT
  if kill -0 "$server" 2>/dev/null; then
    echo "ui: stopping the api-server" >&2
    kill -TERM -- "-$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
}
trap stop INT TERM EXIT

echo "ui: starting airflow api-server on 127.0.0.1:$port (log: $log)" >&2
deadline=$((SECONDS + 180))
until curl -fsS "http://127.0.0.1:$port/api/v2/monitor/health" >/dev/null 2>&1; do
  if ! kill -0 "$server" 2>/dev/null; then
    echo "ui: the api-server stopped; last lines of $log:" >&2; tail -40 "$log" >&2; exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "ui: the api-server did not answer within 180 s; last lines of $log:" >&2; tail -40 "$log" >&2; exit 1
  fi
  # Poll again after a short wait, unless the server exits meanwhile (then the check above reports it).
  timeout 0.5 tail --pid="$server" -f /dev/null || true
done

cat <<EOF

  zoom-sam in the Airflow UI:  http://127.0.0.1:$port/zoom-sam/
  Airflow itself:              http://127.0.0.1:$port/
  log in as:                   admin / $password
                               (kept in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated)
  API token:                   curl -X POST http://127.0.0.1:$port/auth/token \\
                                 -H 'Content-Type: application/json' -d '{"username": "admin", "password": "$password"}'

  Ctrl-C stops the server.
EOF
wait "$server"
