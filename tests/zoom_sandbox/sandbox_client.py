"""A thin client that speaks the sandbox's OAuth, and the configurations its own tests use."""
from __future__ import annotations

from datetime import datetime, timezone

import requests

from zoom_sandbox import DEFAULT_SCOPES, AccountConfig, SandboxConfig, SandboxServer

ANCHOR = datetime(2026, 11, 28, tzinfo=timezone.utc)
UNLIMITED = {"Light": 100_000, "Medium": 100_000, "Heavy": 100_000}
ALL_SCOPES = DEFAULT_SCOPES + ("user:read:user:admin", "report:read:list_users:admin")


def config(accounts=None, **sandbox) -> SandboxConfig:
    """A sandbox anchored on 2026-11-28 with one small account unless told otherwise."""
    if accounts is None:
        accounts = [AccountConfig(users=300)]
    sandbox.setdefault("anchor", ANCHOR)
    return SandboxConfig(accounts=accounts, **sandbox)








def token(sb: SandboxServer, account_id: str | None = None) -> str:
    acct = sb.config.account(account_id)
    r = requests.post(
        sb.oauth_url,
        data={"grant_type": "account_credentials", "account_id": acct.account_id},
        auth=(acct.client_id, acct.client_secret),
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


class Client:
    """requests with a bearer token and the sandbox's base URL."""

    def __init__(self, sb: SandboxServer, account_id: str | None = None) -> None:
        self.sb = sb
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token(sb, account_id)}"

    def request(self, method: str, path: str, **kw) -> requests.Response:
        kw.setdefault("timeout", 10)
        return self.session.request(method, self.sb.base_url + path, **kw)

    def get(self, path: str, **params) -> requests.Response:
        return self.request("GET", path, params=params)

    def patch(self, path: str, body) -> requests.Response:
        return self.request("PATCH", path, json=body)

    def delete(self, path: str, **params) -> requests.Response:
        return self.request("DELETE", path, params=params)

    def pages(self, path: str, key: str, **params) -> list[dict]:
        """Every item of a paged listing, following next_page_token to the end."""
        items, token_ = [], None
        while True:
            q = dict(params, **({"next_page_token": token_} if token_ else {}))
            r = self.get(path, **q)
            assert r.status_code == 200, r.text
            body = r.json()
            items.extend(body[key])
            token_ = body["next_page_token"]
            if not token_:
                return items
