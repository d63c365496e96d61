#!/usr/bin/env bash
# Run once by the postgres image on an empty data volume (docker-entrypoint-initdb.d), after it has
# created the Airflow metadata database ($POSTGRES_DB, owned by $POSTGRES_USER): the zoom_sam
# warehouse gets a database and a role of its own, so the warehouse connection can read and write
# the warehouse and nothing of Airflow's metadata.
set -euo pipefail
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v password="$ZOOM_SAM_WAREHOUSE_PASSWORD" -v metadata="$POSTGRES_DB" <<'SQL'
CREATE ROLE zoom_sam LOGIN PASSWORD :'password';
CREATE DATABASE zoom_sam OWNER zoom_sam;
REVOKE ALL ON DATABASE zoom_sam FROM PUBLIC;
REVOKE CONNECT ON DATABASE :"metadata" FROM PUBLIC;
SQL
