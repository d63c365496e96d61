"""Batched upserts, the SQL file loader and job_result rows, on both back ends."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from zoom_sam.warehouse.jobs import record_job
from zoom_sam.warehouse.schema import job_result, software_model
from zoom_sam.warehouse.sql import run_sql, sql
from zoom_sam.warehouse.upsert import upsert

AS_OF = datetime(2026, 11, 28, tzinfo=timezone.utc)


def model_row(key: str, product: str, alias: str = "acme") -> dict:
    return {"profile_alias": alias, "software_model": key, "publisher": "Zoom", "product": product,
            "edition": None, "capacity": None, "source": "builtin", "first_seen_at": AS_OF, "last_seen_at": AS_OF}


def test_upsert_inserts_then_updates_by_key_in_batches(warehouse):
    rows = (model_row(f"m{i}", "first") for i in range(25))
    assert upsert(warehouse.engine, software_model, rows, batch_size=10) == 25
    later = datetime(2026, 11, 29, tzinfo=timezone.utc)
    with warehouse.engine.begin() as conn:
        upsert(conn, software_model, [{**model_row("m3", "second"), "first_seen_at": later, "last_seen_at": later}],
               update=["product", "last_seen_at"])
    got = {r["software_model"]: r for r in warehouse.rows("software_model", "software_model")}
    assert len(got) == 25
    assert got["m3"]["product"] == "second"
    assert str(got["m3"]["first_seen_at"]).startswith("2026-11-28")  # not in update: kept


def test_a_key_repeated_within_a_batch_is_written_once_last_wins(warehouse):
    upsert(warehouse.engine, software_model, [model_row("m", "a"), model_row("m", "b"), model_row("m", "c", "other")])
    assert [(r["profile_alias"], r["product"]) for r in warehouse.rows("software_model", "profile_alias")] == [
        ("acme", "b"), ("other", "c")]


def test_update_nothing_keeps_existing_rows(warehouse):
    upsert(warehouse.engine, software_model, [model_row("m", "found")])
    upsert(warehouse.engine, software_model, [model_row("m", "entitled"), model_row("n", "entitled")], update=[])
    assert [r["product"] for r in warehouse.rows("software_model", "software_model")] == ["found", "entitled"]


def test_sql_files_load_by_name_and_bind_datetimes_like_the_tables(warehouse):
    upsert(warehouse.engine, software_model, [model_row("m", "x")])
    with warehouse.engine.begin() as conn:
        run_sql(conn, "download/touch_models", {"alias": "acme", "run_id": "r", "as_of": AS_OF, "unused": 1})
        # The same instant bound by the loader compares equal to what the table stored.
        same = conn.execute(
            sa.select(sa.func.count()).select_from(software_model).where(software_model.c.last_seen_at == AS_OF)
        ).scalar()
    assert same == 1
    assert "UPDATE software_model" in sql("download/touch_models").text
    with pytest.raises(FileNotFoundError, match="no_such_statement"):
        sql("download/no_such_statement")


def test_job_result_records_success_with_counts_api_and_budget(warehouse):
    with record_job(warehouse.engine, profile_alias="acme", run_id="r1", task_id="t", as_of=AS_OF,
                    try_number=1) as job:
        running = warehouse.rows("job_result", "run_id")
        job.counts["users_active"] = 123
        job.api = {"calls": {"Medium": 5, "Light": 0}}
        job.minimal = {"Medium": 4}
    assert [r["status"] for r in running] == ["running"]  # a killed task leaves this visible
    (row,) = warehouse.rows("job_result", "run_id")
    assert (row["status"], row["try_number"], row["message"]) == ("success", 1, None)
    counts = row["counts"] if isinstance(row["counts"], dict) else json.loads(row["counts"])  # text on SQLite
    assert counts == {"users_active": 123, "api_budget": {"calls": 5, "minimal": 4, "ratio": 1.25,
                                                          "categories": {"Medium": {"calls": 5, "minimal": 4}}}}
    assert row["duration_s"] >= 0 and row["finished_at"] is not None


def test_job_result_of_a_failure_is_kept_secret_free_and_a_retry_overwrites_it(warehouse):
    from airflow.sdk.log import mask_secret

    mask_secret("s3cr3t-client-secret")
    with pytest.raises(RuntimeError):
        with record_job(warehouse.engine, profile_alias="acme", run_id="r1", task_id="t", as_of=AS_OF,
                        try_number=1):
            raise RuntimeError("token request with s3cr3t-client-secret refused")
    (row,) = warehouse.rows("job_result", "run_id")
    assert row["status"] == "failed"
    assert row["message"].startswith("RuntimeError: token request with ***")
    assert "s3cr3t" not in row["message"]
    with record_job(warehouse.engine, profile_alias="acme", run_id="r1", task_id="t", as_of=AS_OF, try_number=2):
        pass
    assert [(r["status"], r["try_number"]) for r in warehouse.rows("job_result", "run_id")] == [("success", 2)]
    with warehouse.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(job_result)).scalar() == 1
