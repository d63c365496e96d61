"""The simulation of ``tests/simulation`` at scale: 1,000 users, 60 daily runs in automatic mode.

``python -m bench simulation [--quick]`` (quick: 300 users, 30 days). The account changes every
day (hires, leavers, upgrades and downgrades, add-ons, invitations, hosting across midnight UTC
and in timezones from UTC-10 to UTC+12, changes between a run's download and its reclaim) and
every write Zoom receives is judged against the sandbox's ground truth (see
``tests/simulation/oracle.py``). Printed: the three figures the test asserts (wrong writes,
eligible subscriptions left unreclaimed, days whose warehouse differs from the account), re-runs
that did not converge, and the run time per simulated day. Every figure but the time must be 0.

The sandbox runs in this process with no latency and a generous rate limit: this measures the
correctness of months of runs, not Zoom's pacing (the other sections do that). The warehouse is
a temporary SQLite file.
"""
from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

# Before Airflow loads: its own home, and task logs at WARNING (a month of task logs would drown the figures).
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="zoom-sam-bench-home-"))
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")

from tests.simulation.driver import SimConfig, Simulation


def run(quick: bool) -> None:
    config = SimConfig(days=30, generated_users=300) if quick else SimConfig(days=60, generated_users=1_000)
    logging.disable(logging.WARNING)
    try:
        with tempfile.TemporaryDirectory(prefix="zoom-sam-bench-simulation-") as folder:
            figures = Simulation(config, f"sqlite:///{Path(folder) / 'warehouse.db'}", Path(folder)).run()
    finally:
        logging.disable(logging.NOTSET)
    print(f"account: {config.generated_users:,} users at the start, {figures.users:,} at the end; "
          f"{config.days} daily runs, {figures.writes:,} writes to Zoom")
    print(f"wrong writes {figures.wrong_writes} (target 0); eligible left unreclaimed {figures.missed} (target 0); "
          f"days whose warehouse differs from the account {figures.mismatching_days} (target 0); "
          f"re-runs that did not converge {figures.unconverged} (target 0)")
    print(f"run time {figures.seconds:.0f} s, {figures.seconds / config.days:.1f} s per simulated day")
    if figures.wrong_writes or figures.missed or figures.mismatching_days or figures.unconverged:
        print(figures.details())
