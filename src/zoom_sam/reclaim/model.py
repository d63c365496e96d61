"""The vocabulary of reclaim: candidates as the run sees them, the actions it can take, outcomes.

Kept apart from the code that talks to Zoom or the warehouse so that planning, guards and the
reports work on plain values and can be tested without either.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from zoom_sam.licensing import SEAT_IDENTIFIER
from zoom_sam.vocabulary import CandidateState, Mode, UserStatus

if TYPE_CHECKING:
    from zoom_sam.process import RunOptions
    from zoom_sam.profiles import Profile

BACKFILL_RUN_TYPE = "backfill"  # Airflow's DagRunType of the runs `airflow backfill create` makes


def run_mode(profile: Profile, run_type: str | None, options: RunOptions | None = None) -> tuple[Mode | None, str]:
    """The mode this run reclaims in, and why: decided from the profile as read when the task runs.

    The DAG's shape was fixed when its file was parsed, perhaps before someone turned reclaim off
    or to dry run; what the file says now wins. A backfill run (up to ten at once, over past
    intervals) never writes to Zoom: it plans as a dry run. A run a person limited with its
    parameters (``options``) plans as a dry run too: ``dry_run_only`` says so, and a run that did
    not pull fresh activity has no evidence a write may rest on. Nothing here can make a run write
    more than its profile allows: every branch returns the profile's mode or less. None: reclaim
    is off, nothing runs.
    """
    mode = Mode(profile.reclaim.mode)
    if not profile.reclaim_subscriptions:
        return None, "reclaim_subscriptions is false in the profile: nothing is reclaimed, candidates stay open"
    if mode == Mode.DRY_RUN:
        return mode, f"mode {mode}, from the profile"
    if run_type == BACKFILL_RUN_TYPE:
        return Mode.DRY_RUN, f"a backfill run never writes to Zoom: planned as a dry run (the profile's mode is {mode})"
    limited = options.limiting() if options is not None else ()
    if limited:
        return Mode.DRY_RUN, (f"run parameter {' and '.join(limited)}: planned as a dry run, nothing is written to "
                              f"Zoom (the profile's mode is {mode})")
    return mode, f"mode {mode}, from the profile"


# Add-ons zoom-sam knows how to remove: PATCH /users/{id}/settings {"feature": {<flag>: false}}.
# Other paid flags (Zoom Events, Phone, ...) are left alone: Zoom documents no safe removal for
# them that this project has verified.
REMOVABLE_ADDONS = ("webinar", "large_meeting")

# reclaim_action.action values.
DOWNGRADE = "downgrade_to_basic"
DISASSOCIATE = "disassociate_invitation"


def remove_action(flag: str) -> str:
    return f"remove_{flag}"


# reclaim_action.status values.
PLANNED = "planned"          # dry run: what a real run would call
REQUESTED = "requested"      # intent committed, outcome not (yet) known
SUCCEEDED = "succeeded"      # Zoom applied it (2xx, or the state read after an unknown outcome)
REFUSED = "refused"          # Zoom answered with an error code
NOT_FOUND = "not_found"      # 404 / 1001: the user is gone
UNCERTAIN = "uncertain"      # unknown, and no read with the granted scopes can tell yet
NOT_APPLIED = "not_applied"  # outcome was unknown; a state read showed Zoom had not applied it
UNRESOLVED = (REQUESTED, UNCERTAIN)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One open removal candidate with what reclaim needs to judge and report it.

    Of the evidence only what the reports quote is kept: a run at size holds tens of thousands
    of candidates, and the whole evidence (rule, window, events seen) stays in the warehouse,
    where the reports' evidence query points.
    """

    candidate_id: int
    user_id: str
    identifier: str
    email: str
    software_model: str
    state: str
    reason: str
    evaluated_as_of: datetime
    last_activity_at: str | None = None    # as the evidence records it; None: none in the analysed window
    inactive_days: int | None = None
    user_status: str | None = None
    dept: str | None = None
    role_id: str | None = None
    group_ids: tuple[str, ...] = ()
    subscription_excluded: bool = False
    subscription_exclusion_rule: str | None = None
    unit_cost: Decimal | None = None
    currency: str | None = None
    # The approval request that listed it and the answer's decision for it (approval mode).
    approval_run_id: str | None = None
    approval_decision: str | None = None
    approval_by: str | None = None
    approval_at: datetime | None = None

    @property
    def is_seat(self) -> bool:
        return self.identifier == SEAT_IDENTIFIER

    @property
    def addon(self) -> str | None:
        """The add-on flag (``webinar``...) this subscription is, None for the seat or unknown ones."""
        flag = self.identifier.split(":", 1)[0]
        return flag if flag in REMOVABLE_ADDONS else None

    @property
    def is_pending(self) -> bool:
        return self.user_status == UserStatus.PENDING

    @property
    def saving(self) -> Decimal:
        return self.unit_cost if self.unit_cost is not None else Decimal(0)

    def user_attributes(self) -> dict[str, Any]:
        """The user as the exclusion rules of ``zoom_sam.licensing`` read it."""
        return {
            "id": self.user_id,
            "email": self.email,
            "dept": self.dept,
            "role_id": self.role_id,
            "group_ids": list(self.group_ids),
            "status": self.user_status,
        }


@dataclass(frozen=True, slots=True)
class Action:
    """One write to Zoom on behalf of a candidate."""

    candidate_id: int
    name: str
    user_id: str
    flag: str | None = None  # the add-on flag for remove_* actions

    @property
    def call(self) -> str:
        """The request, as a person reads it in the report and the audit trail."""
        if self.name == DOWNGRADE:
            return f'PATCH /users/{self.user_id} {{"type": 1}}'
        if self.name == DISASSOCIATE:
            return f"DELETE /users/{self.user_id}?action=disassociate"
        return f'PATCH /users/{self.user_id}/settings {{"feature": {{"{self.flag}": false}}}}'


@dataclass(slots=True)
class Result:
    """What happened to one candidate in this run (or, in a dry run, what would have)."""

    candidate: Candidate
    state: str | None            # the state it moved to; None: stays open
    detail: str                  # why, in words; also the close_reason
    actions: list[Action] = field(default_factory=list)
    confirmation: str | None = None
    # Left open because a write still needs its confirming read after the run ("confirm") or its
    # outcome is unknown ("uncertain": the next attempt reads the state before anything else).
    awaiting: str | None = None

    @property
    def reclaimed(self) -> bool:
        return self.state == CandidateState.CLOSED_COMPLETE
