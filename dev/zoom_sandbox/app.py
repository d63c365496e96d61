"""One request, start to finish: faults, OAuth or the /v2 gateway, latency, the request log."""
from __future__ import annotations

import sys
import time
import traceback

from . import control
from .account import Account
from .api import Api
from .clock import SandboxClock
from .config import SandboxConfig
from .faults import Faults, Hits
from .messages import Request, Response
from .oauth import OAuth
from .paging import PageTokens
from .ratelimit import RateLimiter
from .requestlog import Record, RequestLog

# What a load balancer in front of Zoom answers: HTML, not Zoom's JSON, which is exactly what a
# client that assumes every error body is JSON trips over.
_GATEWAY_PAGES = {
    502: b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
    503: b"<html><head><title>503 Service Temporarily Unavailable</title></head><body><center>"
    b"<h1>503 Service Temporarily Unavailable</h1></center></body></html>",
    504: b"<html><head><title>504 Gateway Time-out</title></head><body><center><h1>504 Gateway Time-out</h1>"
    b"</center></body></html>",
}


_WRITES = ("PATCH", "POST", "PUT", "DELETE")


def _server_error(status: int) -> Response:
    if status in _GATEWAY_PAGES:
        return Response(status, _GATEWAY_PAGES[status], content_type="text/html")
    return Response(status, {"code": status, "message": "Internal Server Error"})


class SandboxApp:
    def __init__(self, config: SandboxConfig, clock: SandboxClock) -> None:
        self.config = config
        self.clock = clock
        self.accounts = {a.account_id: Account(a, config.anchor, clock) for a in config.accounts}
        self.oauth = OAuth(config, clock)
        self.limiter = RateLimiter(config.retry_after, clock)
        self.faults = Faults(config.fault_seed)
        self.log = RequestLog(config.log_limit)
        self.api = Api(self.accounts, self.oauth, self.limiter, PageTokens(clock))
        self.root_url = ""

    def connection(self, account_id: str | None = None, **extra) -> dict:
        """An Airflow connection (conn_type "zoom") for one account of this sandbox."""
        acct = self.config.account(account_id)
        return {
            "conn_type": "zoom",
            "host": f"{self.root_url}/v2",
            "login": acct.client_id,
            "password": acct.client_secret,
            "extra": {
                "account_id": acct.account_id,
                "oauth_url": f"{self.root_url}/oauth/token",
                "grant_type": "account_credentials",
                **extra,
            },
        }

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_sandbox/"):
            return control.handle(self, request)
        record = Record(
            ts=time.time(),
            account_id=self._account_hint(request),
            method=request.method,
            path=request.path,
            query=request.query,
            status=None,
            category=None,
            zoom_code=None,
            metered=False,
            body=request.body if request.method in _WRITES and request.path.startswith("/v2/") else b"",
        )
        hits = self.faults.hits(request.method, request.path, record.account_id)
        for account_id in hits.expire_tokens:
            self.oauth.expire_all(account_id)
        try:
            response = self._respond(request, hits, record)
        except Exception:  # a sandbox bug: answer like a broken server, and say why on stderr
            traceback.print_exc(file=sys.stderr)
            response = _server_error(500)
        response = self.faults.garble(request.method, request.path, record.account_id, request.query, response)
        response.delay_s += self.config.latency_ms / 1000 + hits.delay_s
        if not response.drop:
            record.status = response.status
            if isinstance(response.body, dict) and isinstance(response.body.get("code"), int):
                record.zoom_code = response.body["code"]
        self.log.append(record)
        return response

    def _account_hint(self, request: Request) -> str | None:
        """Whose request this is before it is authenticated, so faults can target an account."""
        if request.path.startswith("/v2"):
            auth = request.headers.get("Authorization") or ""
            return self.oauth.account_of(auth[7:].strip()) if auth[:7].lower() == "bearer " else None
        if request.path == "/oauth/token":
            return self.oauth.account_hint(request)
        return None

    def _respond(self, request: Request, hits: Hits, record: Record) -> Response:
        if hits.drop:
            return Response(0, drop=True)
        if hits.status:
            return _server_error(hits.status)
        if request.path == "/v2" or request.path.startswith("/v2/"):
            return self.api.handle(request, hits, record)
        if hits.burst_429:
            verdict = self.limiter.refusal(None, None)
            return Response(429, verdict.body, verdict.headers)
        if request.path == "/oauth/token":
            response, record.account_id = self.oauth.token(request)
            return response
        if request.path == "/oauth/authorize":
            response, record.account_id = self.oauth.authorize(request)
            return response
        return Response(404, {"code": 404, "message": "Not Found"})
