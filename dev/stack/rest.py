"""Airflow's REST API as a person's tools use it: a JWT from ``/auth/token``, then ``/api/v2``.

Only the calls the stack test makes, each a thin wrapper that fails with Airflow's own answer when
the status is not the expected one.
"""
from __future__ import annotations

from typing import Any

import requests


class ApiError(AssertionError):
    pass


class AirflowApi:
    def __init__(self, base_url: str, username: str, password: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()
        resp = self.session.post(f"{base_url}/auth/token", json={"username": username, "password": password},
                                 timeout=30)
        if resp.status_code != 201:
            raise ApiError(f"POST /auth/token: HTTP {resp.status_code}: {resp.text[:500]}")
        self.session.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        """``path`` below the server root (``/api/v2/...``, ``/zoom-sam/api/...``); the JSON answer."""
        resp = self.session.request(method, f"{self.base_url}{path}", timeout=60, **kwargs)
        if resp.status_code != expect:
            raise ApiError(f"{method} {path}: HTTP {resp.status_code}: {resp.text[:1000]}")
        return resp.json() if resp.content else None

    def status(self, method: str, path: str) -> int:
        return self.session.request(method, f"{self.base_url}{path}", timeout=60).status_code

    # ------------------------------------------------------------------------------ DAGs and runs

    def import_errors(self) -> list[dict]:
        return self.call("GET", "/api/v2/importErrors")["import_errors"]

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.call("PATCH", f"/api/v2/dags/{dag_id}", json={"is_paused": paused})

    def trigger(self, dag_id: str, logical_date: str) -> dict:
        return self.call("POST", f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": logical_date})

    def dag_run(self, dag_id: str, run_id: str) -> dict:
        return self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        return self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                         params={"limit": 100})["task_instances"]

    def create_pool(self, name: str, slots: int, description: str) -> None:
        self.call("POST", "/api/v2/pools", json={"name": name, "slots": slots, "description": description,
                                                 "include_deferred": False}, expect=201)

    # ------------------------------------------------------------------------------ human in the loop

    def open_requests(self, dag_id: str, run_id: str) -> list[dict]:
        """The run's Required Actions nobody has answered yet."""
        return self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/hitlDetails",
                         params={"response_received": "false"})["hitl_details"]

    def answer(self, dag_id: str, run_id: str, task_id: str, map_index: int, chosen: list[str]) -> dict:
        return self.call("PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}"
                         "/hitlDetails", json={"chosen_options": chosen, "params_input": {}})

    # ------------------------------------------------------------------------------ connections

    def test_connection(self, conn_id: str, conn_type: str) -> dict:
        """The connection form's Test button: the api-server tests the stored connection itself."""
        return self.call("POST", "/api/v2/connections/test", json={"connection_id": conn_id, "conn_type": conn_type})
