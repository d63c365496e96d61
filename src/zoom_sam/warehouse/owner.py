"""Who is writing: the task try that holds a warehouse lock or a run's staging.

Several runs of one profile may work at once (a backfill, a manual trigger beside the daily run),
so whatever one of them holds is recorded with enough to find it from the task log of the other:
the Airflow run, task and try, and the host and process it runs in.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Owner:
    run_id: str
    task_id: str
    try_number: int = 1
    hostname: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)

    def describe(self) -> str:
        return f"run {self.run_id}, task {self.task_id} try {self.try_number}, on {self.hostname} pid {self.pid}"
