"""One measurement in a fresh process, so its peak memory (ru_maxrss) is that measurement's own.

The child is ``python -m bench.<section> --child ARG`` with the sandbox's connection exported as
``zoom_bench``; it prints its figures as JSON on its last line.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

from project import ROOT, pythonpath



def run_child(section: str, arg: str, connection: str) -> dict:
    env = {**os.environ, "AIRFLOW_CONN_ZOOM_BENCH": connection, "PYTHONPATH": pythonpath()}
    env.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="zoom-sam-bench-home-"))
    done = subprocess.run([sys.executable, "-m", f"bench.{section}", "--child", arg], env=env, cwd=ROOT,
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
