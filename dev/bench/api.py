"""Benchmark of the Zoom client: `python -m bench api [--quick]`.

A sandbox child process serves a Business-plan account with 50 ms added latency. A fresh client
process lists every user (three statuses) and reads the settings of every active Licensed user
through ``map_concurrent``. Everything it calls is in Zoom's Medium category (60/s on Business),
so the floor is calls / 60 s. Printed: calls made against the minimum (listing pages + one
settings read per licensed user), 429s as the sandbox counted them, wall time against the floor
(target ratio <= 1.10), unrecovered errors (target 0), and the client's peak memory.

Then the listing alone at 10,000 and 100,000 users (1,000 and 10,000 with ``--quick``), each in a
process of its own, to show that peak memory does not grow with the account.
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import time
import urllib.request
from datetime import date

from bench.child import run_child

ANCHOR = date(2026, 11, 28)
MEDIUM_LIMIT = 60
LATENCY_MS = 50
RATIO_TARGET = 1.10
STATUSES = ("active", "inactive", "pending")


def run(quick: bool) -> None:
    from zoom_sandbox.process import SandboxProcess

    users = 2_000 if quick else 10_000
    with SandboxProcess(users=users, anchor=ANCHOR, latency_ms=LATENCY_MS) as sandbox:
        _reset_stats(sandbox.root_url)
        r = run_child("api", "settings", sandbox.connection_json())
        stats = _stats(sandbox.root_url)
    floor = r["calls"] / MEDIUM_LIMIT
    ratio = r["wall_s"] / floor
    minimum = r["min_pages"] + r["licensed"]
    throttled = _count_429(stats)
    print(f"account: {users:,} users, {r['licensed']:,} active Licensed; Business plan (Medium {MEDIUM_LIMIT}/s), "
          f"{LATENCY_MS} ms latency")
    print(f"  calls made      {r['calls']:>8,}   minimum {minimum:,} ({r['min_pages']} listing pages + "
          f"{r['licensed']:,} settings reads)   ratio {r['calls'] / minimum:.3f}")
    print(f"  429s received   {throttled:>8,}   unrecovered errors {r['errors']}")
    print(f"  wall time       {r['wall_s']:>8.1f} s   floor (calls / limit) {floor:.1f} s   ratio {ratio:.3f} "
          f"(target <= {RATIO_TARGET}){'' if ratio <= RATIO_TARGET else '  OVER TARGET'}")
    print(f"  peak memory     {r['peak_mb']:>8.0f} MB (client process)")
    print("listing only (peak memory of the client process must not grow with the account):")
    for size in ((1_000, 10_000) if quick else (10_000, 100_000)):
        with SandboxProcess(users=size, anchor=ANCHOR, latency_ms=0) as sandbox:
            r = run_child("api", "listing", sandbox.connection_json())
        print(f"  {size:>8,} users   {r['listed']:>8,} listed in {r['calls']:>4} calls   {r['wall_s']:>6.1f} s   "
              f"peak {r['peak_mb']:.0f} MB")


def _stats(root_url: str) -> dict:
    with urllib.request.urlopen(f"{root_url}/_sandbox/stats", timeout=30) as resp:
        return json.loads(resp.read())


def _reset_stats(root_url: str) -> None:
    urllib.request.urlopen(urllib.request.Request(f"{root_url}/_sandbox/reset-stats", method="POST"), timeout=30)


def _count_429(stats: dict) -> int:
    """429s the sandbox answered, over every account and category."""
    return sum(cat["rate_limited"] for account in stats["accounts"].values() for cat in account.values())


def _measure(mode: str) -> dict:
    """Runs in a fresh process, so ru_maxrss is this measurement's own peak."""
    from zoom_sam.hooks.zoom import ZoomHook

    client = ZoomHook(zoom_conn_id="zoom_bench").get_conn()
    started = time.monotonic()
    licensed: list[str] = []
    listed = pages = 0
    for status in STATUSES:
        count = 0
        for user in client.list_users(status=status):
            count += 1
            if mode == "settings" and status == "active" and user.get("type") == 2:
                licensed.append(user["id"])
        listed += count
        pages += max(1, math.ceil(count / 300))
    errors = 0
    if mode == "settings":
        for _user, result in client.map_concurrent(client.get_user_settings, licensed):
            errors += isinstance(result, BaseException)
    wall = time.monotonic() - started
    stats = client.stats()
    client.close()
    return {"wall_s": wall, "calls": sum(stats["calls"].values()), "min_pages": pages, "listed": listed,
            "licensed": len(licensed), "errors": errors,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="internal: one measured client run (see dev/bench/api.py)")
    parser.add_argument("--child", choices=("settings", "listing"), required=True)
    print(json.dumps(_measure(parser.parse_args().child)))
