"""Keeping secrets out of what leaves the task: message text, and the warnings about failed sends.

A failure message is an exception's text, and exceptions quote what they were handed: a
connection URI with its password, a bearer token, a client secret echoed by an identity provider,
the path of a Slack webhook (which is its secret). Three nets catch them, in order:

1. the secret values of the connections this task uses, read from Airflow (:func:`connection_secrets`)
   and replaced as they are, URL-encoded too (:func:`zoom_sam.zoom.redact.scrub`);
2. Airflow's own secrets masker, which knows every connection and token this task process read;
3. shapes that are secret whatever their value: a URI's password, ``Bearer``/``Basic`` credentials,
   and ``key=value`` or ``"key": "value"`` for keys named like a secret (token, secret, password...).
"""
from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, urlsplit

from zoom_sam.zoom.redact import scrub

log = logging.getLogger(__name__)

MASK = "***"
_SECRET_KEY = (r"(?:access_token|refresh_token|id_token|client_secret|api_key|apikey|password|passwd|secret|token|"
               r"authorization|private_key|webhook_url)")
_PATTERNS = (
    # scheme://user:password@host -> scheme://user:***@host
    (re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)[^\s@/]+(@)"), rf"\g<1>{MASK}\g<2>"),
    (re.compile(r"(\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), rf"\g<1>{MASK}"),
    # "client_secret": "abc"  /  'token': 'abc'
    (re.compile(rf"""(["']?\w*{_SECRET_KEY}\w*["']?\s*:\s*["'])[^"']+(["'])""", re.IGNORECASE),
     rf"\g<1>{MASK}\g<2>"),
    # client_secret=abc  /  token: abc  (stops at a separator)
    (re.compile(rf"(\b\w*{_SECRET_KEY}\w*\s*[=:]\s*)(?![\"']|\*\*\*)[^\s&,;)\]}}\"']+", re.IGNORECASE),
     rf"\g<1>{MASK}"),
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret this module can recognise replaced by ``***``."""
    known = tuple(secrets)
    text = scrub(text, known + tuple(quote(s, safe="") for s in known if s))
    text = _airflow_masked(text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_all(value: Any, secrets: Iterable[str] = ()) -> Any:
    """Every string inside ``value`` (dicts, lists) redacted; the structure stays as it was."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {k: redact_all(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_all(v, secrets) for v in value]
    return value


def connection_secrets(conn_ids: Iterable[str | None]) -> list[str]:
    """The secret values of these Airflow connections: passwords, secret-named extras, and a
    webhook URL's path (a Slack or Teams incoming webhook carries its credential there); each is
    also registered with Airflow's masker for the rest of the task's log.

    A connection that cannot be read contributes nothing: the other nets still apply.
    """
    from airflow.sdk import BaseHook

    found: list[str] = []
    for conn_id in dict.fromkeys(c for c in conn_ids if c):
        try:
            conn = BaseHook.get_connection(conn_id)
        except Exception:  # noqa: BLE001 - a missing connection has no secret to hide
            log.debug("connection %s not readable for redaction", conn_id, exc_info=True)
            continue
        found += [conn.password or "", *_secret_extras(conn.extra_dejson)]
        path = urlsplit(conn.host or "").path if "://" in (conn.host or "") else ""
        if len(path.strip("/")) >= 8:
            found.append(path)
    found = [s for s in found if s and len(s) >= 4]
    _mask_in_task_log(found)
    return found


def _secret_extras(extra: Any) -> list[str]:
    if isinstance(extra, dict):
        out: list[str] = []
        for key, value in extra.items():
            if isinstance(value, str) and re.search(_SECRET_KEY, str(key), re.IGNORECASE):
                out.append(value)
            else:
                out += _secret_extras(value)
        return out
    if isinstance(extra, list):
        return [s for item in extra for s in _secret_extras(item)]
    return []


def _mask_in_task_log(secrets: list[str]) -> None:
    """Airflow masks connection passwords in the task log, not a webhook URL's path, which the
    HTTP provider's own warnings quote when a send fails: registering it masks those too."""
    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # pragma: no cover - a task SDK without the masker
        return
    for secret in secrets:
        if len(secret) >= 5:  # the masker refuses shorter ones, with a warning of its own
            mask_secret(secret)


def _airflow_masked(text: str) -> str:
    try:
        from airflow.sdk._shared.secrets_masker import redact as airflow_redact  # the path Airflow 3.3 points to
    except ImportError:  # pragma: no cover - a task SDK without the masker: the other nets still apply
        return text
    return str(airflow_redact(text))
