"""Where the checkout's code is, for the development tools that start Python or Airflow processes.

The runtime package (``src/``), the development packages (``dev/``: sandbox, demo, benchmarks)
and the repository root (the tests) are put on ``PYTHONPATH`` of every child, so a child runs the
code of the checkout that started it, whatever is installed in the virtualenv.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE_PATHS = (ROOT / "src", ROOT / "dev", ROOT)


def pythonpath() -> str:
    """``PYTHONPATH`` for a child: the checkout first, then whatever the parent had."""
    inherited = os.environ.get("PYTHONPATH")
    return os.pathsep.join([*(str(p) for p in SOURCE_PATHS), *([inherited] if inherited else [])])


def airflow_environment(home: Path) -> dict[str, str]:
    """The variables of a project-local Airflow (``home``), never ``~/airflow``."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": pythonpath(),
    }
