"""`make bench` / `python -m bench [section ...] [--quick]`: run benchmark sections in one process.

Each section is a module of this package with ``run(quick: bool) -> None`` that prints its own
figures as ratios against the limit that applies (the Zoom rate limit, the minimal call count).
"""
from __future__ import annotations

import argparse
import importlib
import sys

SECTIONS = ("api", "download", "activity", "reconcile", "reclaim", "simulation")
SECTIONS += ("day",)  # the whole DAG, end to end; bench/day.py (``python -m bench.day --holders N``)
SECTIONS += ("stack",)  # docker-compose.yaml's topology as processes, 100,000 users in dry run
SECTIONS += ("ui",)  # the views in the Airflow UI on a year-old 100,000-subscription profile


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("sections", nargs="*", help=f"any of {', '.join(SECTIONS)} (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller accounts, for a smoke run")
    args = parser.parse_args(argv)
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    for name in args.sections or SECTIONS:
        try:
            module = importlib.import_module(f"bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"bench.{name}":
                raise
            print(f"== {name}: not available yet")
            continue
        print(f"== {name}", flush=True)
        module.run(quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
