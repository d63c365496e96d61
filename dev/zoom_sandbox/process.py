"""The Zoom sandbox as a child process, for the demo and the benchmarks.

A separate process keeps the sandbox's CPU and memory out of what is being demonstrated or
measured (the download's own peak memory, its wall time against the rate limit). The child is
ready when it prints its base URL; its connection JSON comes from its control endpoint.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Mapping
from datetime import date

from project import pythonpath



class SandboxProcess:
    """``with SandboxProcess(users=2000, anchor=date) as sb: sb.connection_json()``."""

    def __init__(self, *, users: int, anchor: date, seed: int = 7, plan: str = "business",
                 latency_ms: float = 0, rate_limits: Mapping[str, int] | None = None) -> None:
        self.args = ["--port", "0", "--users", str(users), "--seed", str(seed), "--plan", plan,
                     "--anchor", anchor.isoformat(), "--latency-ms", str(latency_ms)]
        for category, limit in (rate_limits or {}).items():
            self.args += ["--rate-limit", f"{category}={limit}"]
        self.process: subprocess.Popen | None = None
        self.root_url = ""

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> SandboxProcess:
        env = {**os.environ, "PYTHONPATH": pythonpath()}
        self.process = subprocess.Popen([sys.executable, "-m", "zoom_sandbox", *self.args],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        seen = []
        for line in self.process.stdout:
            seen.append(line)
            if line.startswith("base_url:"):
                self.root_url = line.split(":", 1)[1].strip().rsplit("/v2", 1)[0]
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        self.process.wait()
        raise RuntimeError("the Zoom sandbox did not start:\n" + "".join(seen[-20:]))

    def connection_json(self) -> str:
        """``AIRFLOW_CONN_<ID>`` JSON of the sandbox's account."""
        with urllib.request.urlopen(f"{self.root_url}/_sandbox/connection", timeout=30) as resp:
            return json.dumps(json.loads(resp.read()))

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def _drain(self) -> None:
        """Keep reading the child's output so it never blocks on a full pipe."""
        for _ in self.process.stdout:
            pass
