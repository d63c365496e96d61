"""What the simulation measured, per run and in total, and how it prints it.

Per run (:class:`DayRow`): the writes Zoom received and those that were wrong, the eligible
subscriptions the run left unreclaimed, the differences between the warehouse and the account, and
what a re-run of the date changed. :class:`Figures` adds them up; ``table`` and ``details`` are
what a failing test prints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tests.simulation.oracle import Write


@dataclass
class DayRow:
    day: int
    as_of: datetime
    events: int = 0
    writes: int = 0
    wrong: list[Write] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    mismatch: list[str] = field(default_factory=list)
    unconverged: list[str] = field(default_factory=list)
    candidates: int = 0
    guard: str = ""
    failure: str | None = None

    def line(self) -> str:
        return (f"{self.day:3d} {self.as_of:%Y-%m-%d} {self.events:6d} {self.candidates:5d} {self.writes:6d} "
                f"{len(self.wrong):5d} {len(self.missed):6d} {'yes' if self.mismatch else 'no':>8} "
                f"{len(self.unconverged):6d}  {self.guard or ''}{' FAILED ' + self.failure if self.failure else ''}")


HEADER = "day as-of       events cands writes wrong missed mismatch rerun  note"


@dataclass
class Figures:
    rows: list[DayRow]
    users: int
    seconds: float

    @property
    def wrong_writes(self) -> int:
        return sum(len(r.wrong) for r in self.rows)

    @property
    def missed(self) -> int:
        return sum(len(r.missed) for r in self.rows)

    @property
    def mismatching_days(self) -> int:
        return sum(bool(r.mismatch) for r in self.rows)

    @property
    def unconverged(self) -> int:
        return sum(len(r.unconverged) for r in self.rows)

    @property
    def writes(self) -> int:
        return sum(r.writes for r in self.rows)

    def summary(self) -> str:
        return (f"{len(self.rows)} daily runs, {self.users} users, {self.writes} writes to Zoom "
                f"in {self.seconds:.1f} s: "
                f"wrong writes {self.wrong_writes}, eligible left unreclaimed {self.missed}, "
                f"days whose warehouse differs from the account {self.mismatching_days}, "
                f"re-runs that did not converge {self.unconverged}")

    def table(self) -> str:
        return "\n".join([HEADER] + [r.line() for r in self.rows])

    def details(self, limit: int = 40) -> str:
        lines = []
        for r in self.rows:
            lines += [f"day {r.day} wrong: {w.describe()}" for w in r.wrong]
            lines += [f"day {r.day} missed: {m}" for m in r.missed]
            lines += [f"day {r.day} warehouse vs account: {m}" for m in r.mismatch]
            lines += [f"day {r.day} re-run: {m}" for m in r.unconverged]
        return "\n".join(lines[:limit] + ([f"... {len(lines) - limit} more"] if len(lines) > limit else []))
