"""The run ``make stack-test`` checks and ``python -m bench stack`` measures: the Zoom account, the
sharded profile, and starting its DAG run through the REST API as a person would.

The sandbox admits twice the limits the connection names, so a burst over the account's limit is
served and counted in the per-second figures of its request log (``/_sandbox/stats``) instead of
being refused out of sight; :func:`zoom_side` reads those figures against the real limits.
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import date, datetime, timezone

import yaml

from stack.rest import AirflowApi
from stack.topology import ADMIN, Stack, wait_for
from zoom_sandbox.process import SandboxProcess

ALIAS = "stack"
DAG_ID = f"zoom_sam__{ALIAS}"
CONN_ID = "zoom_stack"
POOL = "zoom_stack"
SHARDS = 4
SEED = 7


def sandbox(users: int, anchor: date, limits: Mapping[str, float], *, latency_ms: float = 0,
            token_ttl_s: int | None = None) -> SandboxProcess:
    zoom = SandboxProcess(users=users, anchor=anchor, seed=SEED, plan="business", latency_ms=latency_ms)
    zoom.args += [f"--rate-limit={cat}={2 * int(limit)}" for cat, limit in limits.items()]
    if token_ttl_s is not None:
        zoom.args += ["--token-ttl", str(token_ttl_s)]
    return zoom


def profile(mode: str, pool: str | None) -> str:
    """The demo profile's rules, exclusions and entitlements, sharded, with guards that let every
    candidate through (what is measured or checked is the plan carried out, not a guard holding)."""
    from zoom_sam.profiles import DEFAULT_PROFILES_DIR

    settings = yaml.safe_load((DEFAULT_PROFILES_DIR / "demo.yaml").read_text())
    settings.update(alias=ALIAS, display_name="Zoom Integration (stack)", zoom_conn_id=CONN_ID, pool=pool,
                    activity_shards=SHARDS, reclaim={"mode": mode, "max_per_run": 1_000_000, "max_fraction": 1.0})
    return yaml.safe_dump(settings)


def task_lines(instances: list[dict]) -> list[str]:
    """Each task instance of a run (``/taskInstances``): its time and the host that ran it."""
    return [f"{ti['task_id']:<24} {ti['map_index']:>3} {ti['state']:<8} {ti['duration'] or 0:>8.1f} s"
            f"  {ti['start_date']} -> {ti['end_date']}  on {ti['hostname']}"
            for ti in sorted(instances, key=lambda ti: (ti["start_date"] or "", ti["map_index"]))]


def zoom_side(stats: dict, limits: Mapping[str, float]) -> list[str]:
    """Per account and category: calls, the busiest second against the limit, 429s."""
    lines = []
    for account, categories in stats["accounts"].items():
        for category, seen in sorted(categories.items()):
            at = datetime.fromtimestamp(seen["busiest_second"], timezone.utc).isoformat()
            lines.append(f"Zoom {account} {category}: {seen['calls']:,} calls, busiest second "
                         f"{seen['max_per_second']} (limit {limits[category]:g}) at {at}, "
                         f"{seen['rate_limited']} answered 429")
    return lines


def over_limit(stats: dict, limits: Mapping[str, float]) -> dict:
    """The categories whose busiest second went over the limit, or that Zoom answered 429."""
    return {(account, category): seen for account, categories in stats["accounts"].items()
            for category, seen in categories.items()
            if seen["rate_limited"] or seen["max_per_second"] > limits[category]}


def start_run(stack: Stack, logical_date: datetime) -> tuple[AirflowApi, str]:
    """Wait for the DAG to be parsed without import errors, create the account's pool, trigger the
    run and unpause the DAG; returns the API session and the run id."""
    api = AirflowApi(stack.api_url, ADMIN, stack.admin_password)
    wait_for(f"{DAG_ID} to be parsed", lambda: api.status("GET", f"/api/v2/dags/{DAG_ID}") == 200,
             time.monotonic() + 180, stack.check)
    errors = api.import_errors()
    if errors:
        raise AssertionError(f"import errors: {errors}")
    api.create_pool(POOL, SHARDS + 2, "Zoom account of the stack: its shards and its other tasks")
    # The latest scheduled interval: unpausing then creates no second run beside this one.
    run_id = api.trigger(DAG_ID, logical_date.isoformat())["dag_run_id"]
    api.set_paused(DAG_ID, False)
    return api, run_id


def is_over(api: AirflowApi, run_id: str) -> bool:
    return api.dag_run(DAG_ID, run_id)["state"] in ("success", "failed")
