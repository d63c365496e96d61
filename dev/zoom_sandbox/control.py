"""/_sandbox: control endpoints for a sandbox running in another process (demo, benchmarks).

No authentication: they exist only on a local test server, and nothing under /_sandbox is
logged, rate limited or faulted, so controlling a run never disturbs what it measures.
"""
from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

from .config import CATEGORIES
from .messages import Request, Response

if TYPE_CHECKING:
    from .app import SandboxApp


def _fail(message: str, status: int = 400) -> Response:
    return Response(status, {"error": message})


def handle(app: "SandboxApp", request: Request) -> Response:
    route = (request.method, request.path)
    if route == ("GET", "/_sandbox/stats"):
        return Response(
            200,
            {
                "now": app.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "accounts": app.log.stats(),
                "log_records": len(app.log),
                "faults": [f.describe() for f in app.faults],
            },
        )
    if route == ("POST", "/_sandbox/reset-stats"):
        app.log.clear()
        return Response(200, {"ok": True})
    if route == ("POST", "/_sandbox/clock/advance"):
        try:
            now = app.clock.advance(float(request.query.get("seconds", "")))
        except ValueError as e:
            return _fail(f"seconds: {e}")
        return Response(200, {"now": now.strftime("%Y-%m-%dT%H:%M:%SZ")})
    if route == ("POST", "/_sandbox/pace"):
        return _pace(app, request)
    if request.path == "/_sandbox/faults":
        return _faults(app, request)
    if route == ("GET", "/_sandbox/connection"):
        try:
            return Response(200, app.connection(request.query.get("account_id")))
        except KeyError as e:
            return _fail(str(e), 404)
    return _fail("unknown control endpoint", 404)


def _faults(app: "SandboxApp", request: Request) -> Response:
    """POST one fault spec (the keywords of ``Faults.add``) or a list of them; DELETE clears."""
    if request.method == "DELETE":
        app.faults.clear()
    elif request.method == "POST":
        try:
            specs = json.loads(request.body or b"null")
            specs = specs if isinstance(specs, list) else [specs]
            for spec in specs:
                spec = dict(spec)
                app.faults.add(spec.pop("kind"), **spec)
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            return _fail(f"bad fault spec: {e}")
    elif request.method != "GET":
        return _fail("method not allowed", 405)
    return Response(200, {"faults": [f.describe() for f in app.faults]})


def _pace(app: "SandboxApp", request: Request) -> Response:
    """Set the latency and every account's rate limits of a running sandbox.

    Body: ``{"latency_ms": 100, "rate_limits": null}`` (null: the plan's limits). A benchmark
    builds the state of a large account unpaced, in minutes, then measures the day after it at
    Zoom's pace against the same sandbox."""
    try:
        spec = json.loads(request.body or b"null")
        accounts = {key: replace(acct.config, rate_limits=spec["rate_limits"]) for key, acct in app.accounts.items()}
        config = replace(app.config, latency_ms=float(spec["latency_ms"]), accounts=tuple(accounts.values()))
    except (ValueError, TypeError, KeyError) as e:
        return _fail(f"bad pace: {e}")
    app.config = config
    for key, acct in app.accounts.items():
        acct.config = accounts[key]
    return Response(200, {"latency_ms": config.latency_ms,
                          "limits": {key: {c: acct.limit(c) for c in CATEGORIES} for key, acct in accounts.items()}})
