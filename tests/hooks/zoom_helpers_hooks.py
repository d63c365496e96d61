"""Helpers for the hook tests."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import requests


def authorize_code(sb, redirect_uri: str = "http://127.0.0.1:1/cb") -> str:
    """An admin consents in the sandbox: return the authorization code of the redirect."""
    client_id = json.loads(sb.connection_json())["login"]
    q = urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri})
    resp = requests.get(f"{sb.authorize_url}?{q}", allow_redirects=False, timeout=5)
    assert resp.status_code == 302
    return parse_qs(urlsplit(resp.headers["Location"]).query)["code"][0]
