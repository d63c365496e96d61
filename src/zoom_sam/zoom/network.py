"""Did a failed request reach the server? The question every retry decision starts from.

A request that never reached Zoom can be sent again whatever it does. One that reached it and
lost its answer may have been carried out: a write may have changed a user, a refresh-token
exchange may have rotated the token. Only the first kind is safe to repeat blindly.
"""
from __future__ import annotations

from typing import Any

import requests
import urllib3.exceptions


def never_reached_server(exc: BaseException) -> bool:
    """True when the request provably never reached the server (no TCP connection was made)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        cur = todo.pop()
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        if isinstance(cur, (urllib3.exceptions.NewConnectionError, urllib3.exceptions.ConnectTimeoutError,
                            ConnectionRefusedError)):
            return True
        if isinstance(cur, BaseException):
            todo.extend(a for a in cur.args if isinstance(a, BaseException))
            todo.append(getattr(cur, "reason", None))
            todo.append(cur.__cause__)
            todo.append(cur.__context__)
    return False
