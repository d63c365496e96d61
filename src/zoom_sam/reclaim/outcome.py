"""What one reclaim run did (or, dry run, would do): the task's report, counts and log text."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from zoom_sam.process import Summary
from zoom_sam.reclaim import guards, report
from zoom_sam.reclaim.model import Candidate, Result
from zoom_sam.vocabulary import CandidateState, JobStatus, Mode

# The states a run moves candidates to, counted in its report.
STATES = (CandidateState.CLOSED_COMPLETE, CandidateState.CLOSED_SKIPPED, CandidateState.CLOSED_CANCELED,
          CandidateState.ATTENTION_REQUIRED)


@dataclass
class Outcome:
    """What one reclaim run did (or, dry run, would do)."""

    profile_alias: str
    as_of: datetime
    mode: Mode
    results: list[Result] = field(default_factory=list)
    excluded: list[tuple[Candidate, str]] = field(default_factory=list)
    # Approval mode: open candidates of the as-of the answer does not approve (left out by the
    # approver, or not listed in this run's request): not touched, still open.
    not_approved: list[Candidate] = field(default_factory=list)
    guard: guards.GuardVerdict | None = None
    api: dict[str, Any] = field(default_factory=dict)
    minimal: dict[str, int] = field(default_factory=dict)   # the calls acting needs (``budget``)

    @property
    def dry_run(self) -> bool:
        return self.mode == Mode.DRY_RUN

    @property
    def reclaimed(self) -> list[Candidate]:
        return [r.candidate for r in self.results if r.reclaimed]

    @property
    def unresolved(self) -> list[Result]:
        """Candidates left open: a write without a known outcome, or a user that failed."""
        return [r for r in self.results if r.state is None]

    def counts(self) -> dict[str, int]:
        states = Counter(r.state or "open" for r in self.results)
        return {
            "selected": len(self.results) + len(self.excluded) + len(self.not_approved),
            "excluded_now": len(self.excluded),
            "not_approved": len(self.not_approved),
            **{s.value: states.get(s, 0) for s in STATES},
            "open": states.get("open", 0),
            "writes": sum(len(r.actions) for r in self.results if not self.dry_run),
            "errors": sum(1 for r in self.results if r.awaiting == "error"),
        }

    def summary(self) -> dict[str, Any]:
        """Small and JSON-ready: the task's XCom and the job_result counts."""
        savings = {m: {"subscriptions": n, "saving": float(s), "currency": cur}
                   for m, n, s, cur in report.per_model(self.reclaimed)}
        return {"profile_alias": self.profile_alias, "as_of": self.as_of.isoformat(), "mode": self.mode.value,
                "dry_run": self.dry_run, **self.counts(), "savings": savings,
                "guard_exceeded": bool(self.guard and self.guard.exceeded)}

    def process_summary(self) -> Summary:
        """The run as the process contract reports it: every number of :meth:`summary` is a count."""
        summary = self.summary()
        counts = {k: v for k, v in summary.items() if isinstance(v, (int, float)) and k != "dry_run"}
        counts["savings"] = summary["savings"]
        return Summary(report=summary, counts=counts, status=JobStatus.DRY_RUN if self.dry_run else None,
                       api=self.api, minimal=self.minimal)

    def render(self) -> str:
        """The report of the run for the task log (Markdown)."""
        verb = "would reclaim" if self.dry_run else "reclaimed"
        parts = [f"Reclaim of {self.profile_alias} as of {self.as_of:%Y-%m-%d %H:%M}Z, mode {self.mode}: "
                 f"{verb} {len(self.reclaimed)} of {len(self.results)} candidate(s)"
                 + (" -- DRY RUN, nothing was sent to Zoom. Planned from this run's download without reading Zoom: "
                    "a real run re-checks each user live first (hosting since the as-of, upcoming meetings and "
                    "webinars, the licence as it is then), which may stop some of these" if self.dry_run else "")]
        if self.reclaimed:
            parts.append(report.model_table(self.reclaimed))
        if self.results:
            parts.append(report.results_table(self.results, dry_run=self.dry_run))
        if self.excluded:
            parts.append(f"Excluded now ({CandidateState.CLOSED_SKIPPED}" + (" in a real run" if self.dry_run else "") + "): "
                         + ", ".join(f"{c.email} {c.software_model} ({rule})" for c, rule in self.excluded))
        if self.not_approved:
            parts.append("Not approved, left open and untouched (left out by the approver, or not in this run's "
                         "approval request): " + ", ".join(f"{c.email} {c.software_model}" for c in self.not_approved))
        if self.guard and self.guard.exceeded:
            parts.append("GUARD: " + self.guard.message(self.profile_alias))
        return "\n\n".join(parts)
