"""Blast-radius guards: a run that would reclaim too much reclaims nothing.

A wrong rule, a broken activity pull or a bad exclusion can make every seat look unused. The
guards turn that into a failed task with a readable message instead of a downgraded company:
``max_per_run`` caps the users whose licensing one run changes, ``max_fraction`` the share of a
model's assigned subscriptions one run removes. They count every subscription the plan removes,
add-ons included: the plan removes nothing that is not a candidate of its own (``plan.py``). They
are checked on the whole run before the first call to Zoom, so they are all-or-nothing by
construction.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from zoom_sam.errors import ZoomSamError
from zoom_sam.reclaim.model import Candidate
from zoom_sam.warehouse.sql import run_sql


class GuardExceeded(ZoomSamError):
    """The run would reclaim more than the profile allows; nothing was changed in Zoom.

    Not retryable: the same candidates exceed the same limits until a person changes the profile.
    """


@dataclass(frozen=True)
class GuardVerdict:
    total: int                             # users whose licensing the run changes
    per_model: dict[str, tuple[int, int]]  # model -> (subscriptions to remove, assigned)
    max_per_run: int
    max_fraction: float

    @property
    def over_count(self) -> bool:
        return self.total > self.max_per_run

    @property
    def over_fraction(self) -> dict[str, float]:
        """model -> fraction of its assigned seats, for the models over ``max_fraction``."""
        return {m: f for m, f in self.fractions.items() if f > self.max_fraction}

    @property
    def fractions(self) -> dict[str, float]:
        return {m: n / assigned for m, (n, assigned) in self.per_model.items()}

    @property
    def exceeded(self) -> bool:
        return self.over_count or bool(self.over_fraction)

    def message(self, profile_alias: str) -> str:
        """What the run would have done and which setting to raise to let it."""
        models = "; ".join(
            f"{m}: {n} of {assigned} assigned ({n / assigned:.0%})" for m, (n, assigned) in sorted(self.per_model.items())
        )
        subscriptions = sum(n for n, _ in self.per_model.values())
        lines = [f"This run would reclaim {subscriptions} subscription(s) of {self.total} user(s) ({models})."]
        fixes = []
        if self.over_count:
            lines.append(f"That is more than reclaim.max_per_run = {self.max_per_run} users.")
            fixes.append(f"reclaim.max_per_run to at least {self.total}")
        over = self.over_fraction
        if over:
            worst = max(over.values())
            lines.append(
                f"That is more than reclaim.max_fraction = {self.max_fraction:g} of the assigned seats of "
                + ", ".join(f"{m} ({f:.0%})" for m, f in sorted(over.items()))
                + "."
            )
            fixes.append(f"reclaim.max_fraction to at least {math.ceil(worst * 100) / 100:g}")
        lines.append(
            "Nothing was reclaimed and every candidate stays open. If this is intended, raise "
            + " and ".join(fixes)
            + f" in the integration profile {profile_alias!r} (src/zoom_sam/include/profiles/), or tighten its rules "
            "or exclusions, then clear the task to run it again."
        )
        return " ".join(lines)


    def table(self) -> str:
        """Where the run stands against each guard (Markdown), for the person asked to approve it."""
        spare = self.max_per_run - self.total
        standing = f"{self.total} ({spare} to spare)" if spare >= 0 else f"{self.total} (**over by {-spare}**)"
        lines = ["| Guard | Limit | This run |", "|---|---:|---|",
                 f"| users whose licensing one run changes (`reclaim.max_per_run`) | {self.max_per_run} | {standing} |"]
        lines += [f"| share of `{m}`'s assigned subscriptions (`reclaim.max_fraction`) | {self.max_fraction:.0%} | "
                  f"{n} of {assigned} ({n / assigned:.0%}){' **over**' if n / assigned > self.max_fraction else ''} |"
                  for m, (n, assigned) in sorted(self.per_model.items())]
        return "\n".join(lines)


def assigned_seats(engine: Engine, profile_alias: str) -> dict[str, int]:
    """Active subscriptions per software model (the denominator of ``max_fraction``)."""
    with engine.connect() as conn:
        rows = run_sql(conn, "reclaim/assigned_seats", {"profile_alias": profile_alias})
        return {row.software_model: int(row.assigned) for row in rows}


def evaluate(
    to_reclaim: Iterable[Candidate],
    assigned: Mapping[str, int],
    *,
    max_per_run: int,
    max_fraction: float,
) -> GuardVerdict:
    """The guard verdict for the subscriptions a run would reclaim."""
    to_reclaim = list(to_reclaim)
    counts = Counter(c.software_model for c in to_reclaim)
    # A model with candidates but no assigned seat on record is counted as fully at stake.
    per_model = {m: (n, max(n, assigned.get(m, 0))) for m, n in counts.items()}
    return GuardVerdict(len({c.user_id for c in to_reclaim}), per_model, max_per_run, max_fraction)
