"""``python -m zoom_sandbox``: the sandbox as a standalone process for the demo and benchmarks."""
from __future__ import annotations

import argparse
import signal
import threading
from datetime import date

from .config import CATEGORIES, DEFAULT_SCOPES, PLAN_LIMITS, RETRY_AFTER_MODES, AccountConfig, SandboxConfig
from .faults import KINDS
from .server import SandboxServer

# The positional arguments each fault kind takes after its name, in order.
_POSITIONAL = {"status": ("status", "probability"), "slow": ("delay_s", "probability"),
               "malformed": ("shape", "probability")}
_CONVERT = {"status": int, "count": int, "every": int, "probability": float, "delay_s": float}

FAULT_HELP = """fault spec: KIND[:ARG...][:key=value...], repeatable. KIND is one of {kinds}.
Positional ARGs: status:STATUS[:PROBABILITY], slow:DELAY_S[:PROBABILITY], malformed:SHAPE[:PROBABILITY],
other kinds :PROBABILITY. Keys: probability, count (fire at most N times), every (every Nth match),
path (regex), method, account_id, status, delay_s, shape (null, empty, list, html, strings, missing),
field (of strings, default users; of missing, default feature). Examples: status:500:0.01  drop:0.005
slow:2.5:every=50  burst_429:count=20:path=/users$  expire_tokens:every=1000  ignore_window
repeat_page_token:count=1  stop_listing:count=1:path=/users$  malformed:null:count=1:path=/settings$"""


def parse_fault(spec: str) -> tuple[str, dict]:
    """A CLI fault spec as (kind, keyword arguments of ``Faults.add``)."""
    kind, *parts = spec.split(":")
    if kind not in KINDS:
        raise argparse.ArgumentTypeError(f"unknown fault kind {kind!r} (one of {', '.join(KINDS)})")
    positional = list(_POSITIONAL.get(kind, ("probability",)))
    kwargs: dict = {}
    for part in parts:
        if "=" in part:
            key, value = part.split("=", 1)
        elif positional:
            key, value = positional.pop(0), part
        else:
            raise argparse.ArgumentTypeError(f"fault {spec!r}: unexpected argument {part!r}")
        try:
            kwargs[key] = _CONVERT.get(key, str)(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"fault {spec!r}: bad value for {key}: {value!r}") from None
    return kind, kwargs


def parse_rate_limit(spec: str) -> tuple[str, int]:
    """``CATEGORY=N``: override the plan's per-second limit of one category."""
    category, sep, value = spec.partition("=")
    if not sep or category not in CATEGORIES or not value.isdigit():
        raise argparse.ArgumentTypeError(f"expected CATEGORY=N with CATEGORY one of {', '.join(CATEGORIES)}, not {spec!r}")
    return category, int(value)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m zoom_sandbox",
        description="Serve a local Zoom API (OAuth, /v2 users, settings, meetings, webinars, host report).",
        epilog=FAULT_HELP.format(kinds=", ".join(KINDS)),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    defaults = AccountConfig()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    p.add_argument("--users", type=int, default=defaults.users)
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--plan", choices=sorted(PLAN_LIMITS), default=defaults.plan)
    p.add_argument("--account-id", default=defaults.account_id)
    p.add_argument("--client-id", default=defaults.client_id)
    p.add_argument("--client-secret", default=defaults.client_secret)
    p.add_argument("--scopes", default=" ".join(DEFAULT_SCOPES), help="space-separated granted scopes")
    p.add_argument("--anchor", type=date.fromisoformat, default=None, help="YYYY-MM-DD; default: today (UTC)")
    p.add_argument("--latency-ms", type=float, default=0)
    p.add_argument("--token-ttl", type=int, default=3600, help="access-token lifetime, seconds")
    p.add_argument("--retry-after", choices=RETRY_AFTER_MODES, default="iso")
    p.add_argument(
        "--rate-limit", type=parse_rate_limit, action="append", default=[], metavar="CATEGORY=N",
        help="override the plan's per-second limit, e.g. Medium=1000; repeatable",
    )
    p.add_argument("--fault", type=parse_fault, action="append", default=[], metavar="SPEC")
    p.add_argument("--fault-seed", type=int, default=0)
    return p


def config_from_args(args: argparse.Namespace) -> SandboxConfig:
    account = AccountConfig(
        account_id=args.account_id,
        client_id=args.client_id,
        client_secret=args.client_secret,
        users=args.users,
        seed=args.seed,
        plan=args.plan,
        scopes=tuple(args.scopes.split()),
        rate_limits=dict(args.rate_limit) or None,
    )
    return SandboxConfig(
        accounts=(account,),
        anchor=args.anchor,
        latency_ms=args.latency_ms,
        token_ttl_s=args.token_ttl,
        retry_after=args.retry_after,
        fault_seed=args.fault_seed,
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = config_from_args(args)
    server = SandboxServer(config, host=args.host, port=args.port)
    for kind, kwargs in args.fault:
        server.faults.add(kind, **kwargs)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    acct = config.accounts[0]
    with server:
        print(
            f"Zoom sandbox: {acct.users} users, seed {acct.seed}, plan {acct.plan}, "
            f"anchor {config.anchor.date().isoformat()}\n"
            f"base_url:      {server.base_url}\n"
            f"oauth_url:     {server.oauth_url}\n"
            f"authorize_url: {server.authorize_url}\n"
            f"account_id:    {acct.account_id}\n"
            f"client_id:     {acct.client_id}\n"
            f"connection:    curl -s {server.root_url}/_sandbox/connection   (AIRFLOW_CONN_<ID> JSON)\n"
            f"stats:         curl -s {server.root_url}/_sandbox/stats\n"
            "Stop with Ctrl-C or SIGTERM.",
            flush=True,
        )
        while not stop.wait(1.0):
            pass
    return 0
