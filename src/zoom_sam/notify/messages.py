"""What each event says: from what a task found to one message a person can act on.

A message leads with what happened and what to do, gives the figures that decide it, and links
to where the details are (the Airflow UI's Required Actions page, a task's log, the zoom-sam
views). The same message goes out as a webhook's JSON (``text`` is what Slack and Teams show; the
other keys are for programs) and as an e-mail.
"""
from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode

from zoom_sam.notify.redaction import redact, redact_all
from zoom_sam.profiles import NotifyEvent, Profile

# An error text is cut here: a message is a pointer to the task log, not a copy of it.
ERROR_LIMIT = 1500
# The most identifiers listed one per line; the rest are counted.
LIST_LIMIT = 25


@dataclass(frozen=True)
class Message:
    """One notification. ``also_for``: a second event whose targets get it too (a guard's stop
    is also a failed task, and a target told of failures must not miss it)."""

    event: NotifyEvent
    profile_alias: str
    title: str
    lines: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)
    also_for: NotifyEvent | None = None

    def wanted_by(self, target: Any) -> bool:
        return target.wants(self.event) or (self.also_for is not None and target.wants(self.also_for))

    def text(self) -> str:
        body = "\n".join(self.lines)
        links = "\n".join(f"{label}: {url}" for label, url in self.links)
        return "\n\n".join(part for part in (self.title, body, links) if part)

    def subject(self) -> str:
        return f"[zoom-sam {self.profile_alias}] {self.title}"

    def payload(self) -> dict[str, Any]:
        """The webhook body: ``text`` for chat tools, the rest for programs."""
        return {"text": self.text(), "event": self.event.value, "profile": self.profile_alias, "title": self.title,
                "facts": dict(self.facts), "links": dict(self.links)}

    def html(self) -> str:
        lines = "".join(f"<p>{html.escape(line)}</p>" for line in self.lines)
        links = "".join(f'<p>{html.escape(label)}: <a href="{html.escape(url)}">{html.escape(url)}</a></p>'
                        for label, url in self.links)
        return f"<html><body><h3>{html.escape(self.title)}</h3>{lines}{links}</body></html>"

    def redacted(self, secrets: tuple[str, ...]) -> Message:
        return replace(self, title=redact(self.title, secrets), lines=tuple(redact(x, secrets) for x in self.lines),
                       facts=redact_all(dict(self.facts), secrets))


@dataclass(frozen=True)
class Links:
    """Absolute addresses in the Airflow UI, from ``[api] base_url`` (its path kept, for an Airflow
    served under a prefix). Without a base URL the paths alone are given, and the text says so."""

    base_url: str | None
    views_prefix: str

    def _url(self, path: str, query: Mapping[str, Any] | None = None) -> str:
        tail = f"{path}?{urlencode(query)}" if query else path
        return f"{self.base_url.rstrip('/')}{tail}" if self.base_url else tail

    def task(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> str:
        mapped = f"/mapped/{map_index}" if map_index >= 0 else ""
        return self._url(f"/dags/{quote(dag_id)}/runs/{quote(run_id, safe='')}/tasks/{quote(task_id)}{mapped}")

    def required_actions(self, dag_id: str, run_id: str, task_id: str) -> str:
        return self._url(f"/dags/{quote(dag_id)}/runs/{quote(run_id, safe='')}/tasks/{quote(task_id)}"
                         "/required_actions", {"map_index": -1})

    def candidates(self, alias: str, as_of: datetime) -> str:
        return self._url(f"{self.views_prefix}/profiles/{quote(alias)}/candidates", {"as_of": as_of.isoformat()})

    def profile(self, alias: str) -> str:
        return self._url(f"{self.views_prefix}/profiles/{quote(alias)}")

    def note(self) -> tuple[str, ...]:
        return () if self.base_url else (
            "The links are paths: set [api] base_url in the Airflow configuration for full addresses.",)


def approval_waiting(profile: Profile, run_id: str, as_of: datetime, task_id: str, report: Mapping[str, Any],
                     links: Links) -> Message | None:
    """The approve task asked a person; None when it asked nobody (no candidate, or not approval mode)."""
    count = int(report.get("candidates") or 0)
    if report.get("not_asked") or not count:
        return None
    models = report.get("models") or {}
    lines = (
        f"{profile.display_name} ({profile.alias}), as of {as_of:%Y-%m-%d %H:%M} UTC: {count} unused "
        f"subscription(s) wait for Approve before anything is reclaimed.",
        *(f"- {model}: {n}" for model, n in sorted(models.items())),
        "Nothing is changed in Zoom until a person approves; Reject keeps every candidate open.",
        *links.note(),
    )
    return Message(
        NotifyEvent.APPROVAL_WAITING, profile.alias,
        f"Approval waiting: {report.get('subject') or f'reclaim {count} unused Zoom subscription(s)?'}",
        lines,
        (("Approve or reject", links.required_actions(profile.dag_id, run_id, task_id)),
         ("Candidates and their evidence", links.candidates(profile.alias, as_of))),
        {"run_id": run_id, "as_of": as_of.isoformat(), "candidates": count, "saving": report.get("saving"),
         "models": dict(models)},
    )


def reclaim_done(profile: Profile, run_id: str, as_of: datetime, task_id: str, report: Mapping[str, Any],
                 links: Links) -> Message | None:
    """What a reclaim did; None when it had nothing to act on (or reclaim is off)."""
    if "mode" not in report or not report.get("selected"):
        return None
    dry = bool(report.get("dry_run"))
    savings = report.get("savings") or {}
    done = int(report.get("closed_complete") or 0)
    verb = "would reclaim" if dry else "reclaimed"
    lines = [
        f"{profile.display_name} ({profile.alias}), as of {as_of:%Y-%m-%d %H:%M} UTC, mode {report['mode']}: "
        f"{verb} {done} of {report['selected']} selected subscription(s)"
        + (" -- DRY RUN, nothing was sent to Zoom." if dry else "."),
        f"Activity seen, kept: {report.get('closed_canceled', 0)}; skipped: {report.get('closed_skipped', 0)}; "
        f"excluded now: {report.get('excluded_now', 0)}; need attention: {report.get('attention_required', 0)}; "
        f"still open: {report.get('open', 0)}.",
    ]
    if dry:
        lines.append("Realised savings: none (dry run). Per year if reclaimed: " + _money(savings) + ".")
    else:
        lines.append("Realised savings per year: " + _money(savings) + ".")
    lines += [f"- {model}: {s.get('subscriptions', 0)} subscription(s), {_amount(s)}"
              for model, s in sorted(savings.items())]
    lines += links.note()
    title = (f"Reclaim dry run: would reclaim {done} subscription(s)" if dry else
             f"Reclaim done: {done} subscription(s) reclaimed, saving {_money(savings)} per year")
    return Message(
        NotifyEvent.RECLAIM_DONE, profile.alias, title, tuple(lines),
        (("Task log", links.task(profile.dag_id, run_id, task_id)),
         ("Candidates", links.candidates(profile.alias, as_of))),
        {"run_id": run_id, "as_of": as_of.isoformat(), "dry_run": dry,
         **{k: report.get(k) for k in ("mode", "selected", "closed_complete", "closed_canceled", "closed_skipped",
                                       "attention_required", "open", "writes", "errors")},
         "savings": dict(savings)},
    )


def unrecognized_appeared(profile: Profile, run_id: str, as_of: datetime, current: Mapping[str, int],
                          previous: Mapping[str, int] | None, links: Links) -> Message | None:
    """Paid identifiers without a software model that the previous snapshot did not hold (all of
    them on a profile's first snapshot); None when none appeared."""
    new = {i: int(n) for i, n in sorted(current.items()) if n and not (previous or {}).get(i)}
    if not new:
        return None
    shown = list(new.items())[:LIST_LIMIT]
    lines = (
        f"{profile.display_name} ({profile.alias}), snapshot as of {as_of:%Y-%m-%d %H:%M} UTC: "
        f"{len(new)} paid identifier(s) without a software model appeared"
        + (" (the profile's first snapshot)." if previous is None else " since the previous snapshot."),
        *(f"- {identifier}: {n} subscription(s)" for identifier, n in shown),
        *([f"- ... and {len(new) - len(shown)} more"] if len(new) > len(shown) else []),
        "They are left out of the license position and of reclaim until the profile maps them "
        "(identifier_models) to a software model.",
        *links.note(),
    )
    return Message(
        NotifyEvent.UNRECOGNIZED_IDENTIFIERS, profile.alias,
        f"{len(new)} unrecognized Zoom subscription identifier(s) appeared", lines,
        (("Profile and its unrecognized identifiers", links.profile(profile.alias)),),
        {"run_id": run_id, "as_of": as_of.isoformat(), "new": new, "unrecognized_total": len(current)},
    )


def process_failed(profile: Profile, run_id: str, task_id: str, map_index: int, try_number: int | None,
                   error: BaseException | None, links: Links) -> Message:
    """A task failed for good (no retry left, or an error no retry can fix)."""
    kind, text = _error(error)
    task = f"{task_id}[{map_index}]" if map_index >= 0 else task_id
    lines = (
        f"Task {task} of {profile.dag_id}, run {run_id}" + (f", try {try_number}" if try_number else "")
        + f", failed: {kind}.",
        text,
        "The task log has the whole story; clear the task to run it again once the cause is fixed.",
        *links.note(),
    )
    return Message(
        NotifyEvent.PROCESS_FAILED, profile.alias, f"{task} failed: {kind}", lines,
        (("Task log", links.task(profile.dag_id, run_id, task_id, map_index)),),
        {"run_id": run_id, "task_id": task_id, "map_index": map_index, "try_number": try_number,
         "error_class": kind, "error": text},
    )


def guard_stopped(profile: Profile, run_id: str, task_id: str, error: BaseException, links: Links) -> Message:
    """A blast-radius guard refused a reclaim: the guard's message names the limits and the fix."""
    _, text = _error(error)
    lines = (
        f"{profile.display_name} ({profile.alias}), run {run_id}: the {task_id} task stopped before changing "
        "anything in Zoom, because the reclaim is larger than the profile allows.",
        text,
        *links.note(),
    )
    return Message(
        NotifyEvent.GUARD_STOPPED, profile.alias, "A guard stopped a mass reclaim: nothing was reclaimed", lines,
        (("Task log", links.task(profile.dag_id, run_id, task_id)),),
        {"run_id": run_id, "task_id": task_id, "error_class": type(error).__name__, "error": text},
        also_for=NotifyEvent.PROCESS_FAILED,
    )


def _error(error: BaseException | None) -> tuple[str, str]:
    if error is None:
        return "unknown error", "Airflow gave no exception (the task may have been killed or timed out)."
    text = str(error) or "(no message)"
    return type(error).__name__, text if len(text) <= ERROR_LIMIT else text[: ERROR_LIMIT - 1] + "…"


def _money(savings: Mapping[str, Mapping[str, Any]]) -> str:
    total: dict[str, float] = defaultdict(float)
    for s in savings.values():
        total[s.get("currency") or ""] += float(s.get("saving") or 0)
    return " + ".join(f"{amount:,.2f} {currency}".rstrip() for currency, amount in sorted(total.items())) or "0.00"


def _amount(s: Mapping[str, Any]) -> str:
    return f"{float(s.get('saving') or 0):,.2f} {s.get('currency') or ''}".rstrip()
