"""Exceptions raised by the Zoom client, each saying whether an Airflow retry can fix it.

Every message names what failed (method, path, HTTP status, Zoom's code and message) and never a
token or a secret: the client builds messages only from request paths and Zoom's error bodies.

A Zoom failure is retryable by default (Zoom down, a throttled account, a garbled answer: a later
attempt may not meet it). Two kinds are not: a missing scope, which only an admin of the Zoom
account can grant, and an auth failure that says so per instance.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from zoom_sam.errors import RetryableError


class ZoomError(RetryableError):
    """Base class of every error this package raises about Zoom.

    Picklable across processes (Airflow task results, executors) with every attribute it
    carries, whatever its constructor takes.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.__class__, str(self), self.__dict__.copy()))


def _rebuild(cls: type[ZoomError], text: str, state: dict[str, Any]) -> ZoomError:
    err = cls.__new__(cls)
    Exception.__init__(err, text)
    err.__dict__.update(state)
    return err


class ZoomApiError(ZoomError):
    """Zoom answered a request with an error (4xx) that sending it again cannot fix.

    ``status`` is the HTTP status, ``code``/``message`` are Zoom's ``{"code", "message"}`` body.
    The transport raises it at once; whether a later task attempt may succeed is the class's
    ``retryable``.
    """

    def __init__(
        self,
        status: int | None,
        code: int | None,
        message: str,
        method: str = "",
        path: str = "",
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.method = method
        self.path = path
        super().__init__(self._render())

    def _render(self) -> str:
        where = f"{self.method} {self.path}".strip()
        bits = []
        if self.status is not None:
            bits.append(f"HTTP {self.status}")
        if self.code is not None:
            bits.append(f"Zoom code {self.code}")
        head = ", ".join(bits)
        text = f"{where}: {head}" if where and head else where or head
        if not self.message:
            return text
        return f"{text}: {self.message}" if text else self.message


class ZoomNotFound(ZoomApiError):
    """404 / code 1001: the user (or object) does not exist in this account."""


class ZoomMissingScopes(ZoomApiError):
    """The Zoom app lacks scopes a request needs: only an admin of the account can grant them.

    Not retryable, so the task fails at once instead of waiting out Airflow's retries. Raised by
    the client for Zoom's answer (code 4711 or 4700), and by a process that checks the granted
    scopes before it starts (keyword arguments only; no request, so no status)::

        raise ZoomMissingScopes(missing=("user:update:user:admin",),
                                message="reclaim of demo cannot write to Zoom (nothing was changed)")

    ``missing`` names the scopes; ``processes`` maps each zoom-sam process that needs one of them
    (download_subscriptions, pull_activity, reclaim) to the scopes it misses.
    """

    retryable = False

    def __init__(
        self,
        *,
        missing: Iterable[str],
        message: str = "",
        status: int | None = None,
        code: int | None = None,
        method: str = "",
        path: str = "",
        processes: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.missing = tuple(sorted(set(missing)))
        if processes is None:
            from zoom_sam.zoom.scopes import processes_needing

            processes = processes_needing(self.missing)
        self.processes = {p: tuple(sorted(s)) for p, s in processes.items()}
        super().__init__(status, code, message, method, path)

    def _render(self) -> str:
        text = super()._render()
        if self.missing:
            text += f" [missing scopes: {', '.join(self.missing)}"
            if self.processes:
                blocked = "; ".join(f"{p} needs {', '.join(s)}" for p, s in sorted(self.processes.items()))
                text += f"; blocks: {blocked}"
            text += "]"
        return text


class ZoomAuthError(ZoomError):
    """Credentials were refused or the token endpoint failed.

    ``reauthorize`` is True when only an admin can fix it by authorizing the app again (a dead
    or rotated-away refresh token). ``retryable`` is True only for failures a later attempt can
    get past (the token endpoint unreachable or failing); everything else (a refusal, a missing
    or mismatched chain, a misconfigured connection) fails the task at once. ``answer_lost``
    says Zoom may have processed a request whose answer never arrived.
    """

    def __init__(self, message: str, *, status: int | None = None, reason: str | None = None,
                 reauthorize: bool = False, retryable: bool = False, answer_lost: bool = False) -> None:
        self.status = status
        self.reason = reason
        self.reauthorize = reauthorize
        self.retryable = retryable
        self.answer_lost = answer_lost
        text = message
        if reauthorize and "reauthorize" not in text.lower():
            text += " -- reauthorize the Zoom app (run the OAuth authorization flow again) to get a new refresh token"
        super().__init__(text)


class ZoomRateLimited(ZoomError):
    """Still HTTP 429 after the retries allowed (or a daily limit, which no retry can fix today)."""

    def __init__(self, message: str, *, category: str | None = None, limit_type: str | None = None,
                 retry_after: str | None = None) -> None:
        self.category = category
        self.limit_type = limit_type
        self.retry_after = retry_after
        super().__init__(message)


class ZoomTransientError(ZoomError):
    """5xx, timeouts or dropped connections that persisted through every retry (reads)."""


class ZoomUncertainOutcome(ZoomError):
    """A write whose outcome is unknown: it may or may not have been applied by Zoom.

    The connection dropped, timed out or a 5xx came back after the request may have reached
    Zoom. Writes are never retried blindly: re-read the object's state before deciding.
    """

    def __init__(self, message: str, *, method: str = "", path: str = "", status: int | None = None) -> None:
        self.method = method
        self.path = path
        self.status = status
        super().__init__(message)


class ZoomUnusableAnswer(ZoomError):
    """Zoom answered 2xx, yet the answer cannot be taken as Zoom's truth.

    Kept apart from the 4xx/5xx errors because nothing went wrong on the wire: the danger is a
    caller reading a garbled body or a cut-short listing as "no users" or "no add-ons". ``method``
    and ``path`` name the endpoint (with the listing's query for listings).
    """

    def __init__(self, message: str, *, method: str = "", path: str = "") -> None:
        self.method = method
        self.path = path
        super().__init__(message)


class ZoomMalformedResponse(ZoomUnusableAnswer):
    """A read answer whose body is not the shape its endpoint promises (``problem`` says how)."""

    def __init__(self, method: str, path: str, problem: str, *, status: int | None = 200, retries: int = 0,
                 hint: str = "") -> None:
        self.problem = problem
        self.status = status
        self.retries = retries
        after = f"; still so after {retries} {'retry' if retries == 1 else 'retries'}" if retries else ""
        text = (f"{method} {path}: malformed answer from Zoom (HTTP {status}): {problem}{after}. "
                f"{hint or _MALFORMED_HINT}")
        super().__init__(text, method=method, path=path)


class ZoomPagingLoop(ZoomUnusableAnswer):
    """A listing that would never end: a repeated page token, or pages that bring nothing new."""

    def __init__(self, method: str, path: str, reason: str, *, pages: int, items: int) -> None:
        self.reason = reason
        self.pages = pages
        self.items = items
        super().__init__(
            f"{method} {path}: page loop: {reason}; stopped after {pages} pages and {items} distinct items "
            "instead of following it. Nothing built on this listing was used. Retry later; if it happens "
            "again, Zoom (or a proxy in between) serves this listing in a loop: report it to Zoom support "
            "with this message.", method=method, path=path)


class ZoomIncompleteListing(ZoomUnusableAnswer):
    """A listing that ended with fewer distinct items than the ``total_records`` Zoom reported.

    ``listed`` and ``reported`` hold one count per pass over the listing (the first, then each
    re-list from the first page).
    """

    def __init__(self, method: str, path: str, *, listed: tuple[int, ...], reported: tuple[int, ...]) -> None:
        self.listed = tuple(listed)
        self.reported = tuple(reported)
        passes = "; ".join(f"{n} of {t}" for n, t in zip(self.listed, self.reported))
        super().__init__(
            f"{method} {path}: incomplete listing: it ended with fewer distinct users than the total_records "
            f"Zoom reported, on each of {len(self.listed)} passes from the first page ({passes}). Missing "
            "users would be read as gone, so this listing was not used. Retry later; if every try comes "
            "up short, Zoom's listing stops early: report it to Zoom support with this message.",
            method=method, path=path)


_MALFORMED_HINT = ("Nothing was read from it. Retry later; if it persists, check what answers in Zoom's "
                   "place (a proxy, a captive portal, a wrong API base URL in the connection)")
