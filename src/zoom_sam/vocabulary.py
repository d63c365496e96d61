"""The words zoom-sam's tables, SQL and code share: one definition each.

Python compares with the enums; the SQL in ``src/zoom_sam/include/sql/`` names the same values as
bind parameters (``:state_ready``, ``:verdict_candidate``, ``:event_meeting_hosted``, ...), which
:func:`zoom_sam.warehouse.sql.run_sql` binds from :func:`sql_params` on every statement, so a value
is spelled once, here. The enums are ``StrEnum``/``IntEnum``: a member equals its stored value.
"""
from __future__ import annotations

from enum import IntEnum, StrEnum


class Mode(StrEnum):
    """How a profile reclaims: report only, after a person's Approve, or on its own."""

    DRY_RUN = "dry_run"
    APPROVAL = "approval"
    AUTOMATIC = "automatic"


class CandidateState(StrEnum):
    """``removal_candidate.state``: open while a run may still act on it, closed once decided."""

    READY = "ready"
    AWAITING_APPROVAL = "awaiting_approval"
    ATTENTION_REQUIRED = "attention_required"
    CLOSED_COMPLETE = "closed_complete"
    CLOSED_SKIPPED = "closed_skipped"
    CLOSED_CANCELED = "closed_canceled"


OPEN_STATES = (CandidateState.READY, CandidateState.AWAITING_APPROVAL, CandidateState.ATTENTION_REQUIRED)
# The open states a reclaim run acts on: attention_required waits for a person, not for a run.
RECLAIMABLE_STATES = (CandidateState.READY, CandidateState.AWAITING_APPROVAL)


class Verdict(StrEnum):
    """``reconcile_evaluation.status``: what the reconcile decided for one active subscription."""

    EXCLUDED = "excluded"
    CANDIDATE = "candidate"
    USED = "used"
    NEW_ACCOUNT = "new_account"
    NEW_SUBSCRIPTION = "new_subscription"
    INSUFFICIENT_HISTORY = "insufficient_history"
    KEPT_BY_ADDON = "kept_by_addon"


class Reason(StrEnum):
    """``removal_candidate.reason``: why a subscription became a candidate."""

    PENDING_INVITATION = "pending_invitation"
    NEVER_HOSTED = "never_hosted"
    NO_HOSTING_SINCE = "no_hosting_since"


class EventType(StrEnum):
    """``activity_event.event_type``: the hosting that shows a subscription in use."""

    MEETING_HOSTED = "meeting_hosted"
    WEBINAR_HOSTED = "webinar_hosted"


class UserStatus(StrEnum):
    """A Zoom user's ``status`` as ``GET /users`` lists it."""

    ACTIVE = "active"
    INACTIVE = "inactive"
    PENDING = "pending"


class ZoomCode(IntEnum):
    """Zoom's error ``code`` values the client acts on (the HTTP status alone does not tell)."""

    INVALID_ACCESS_TOKEN = 124
    NO_WEBINAR_PLAN = 200
    PAGE_TOKEN_EXPIRED = 300
    USER_NOT_FOUND = 1001
    MISSING_SCOPE = 4711
    NO_PERMISSION = 4700


class JobStatus(StrEnum):
    """``job_result.status``: how a task ended, more precisely than Airflow's task state."""

    SUCCESS = "success"
    FAILED = "failed"
    INSUFFICIENT_HISTORY = "insufficient_history"  # reconcile: some subscriptions not judged yet
    DRY_RUN = "dry_run"                            # reclaim planned, wrote nothing
    DISABLED = "disabled"                          # reclaim off in the profile: nothing ran
    NOT_ASKED = "not_asked"                        # approve: the run's mode needs no approval
    NOTHING_TO_APPROVE = "nothing_to_approve"      # approve: no candidate, nobody asked
    SKIPPED = "skipped"                            # a run parameter limited the run: nothing done, message says why


class ApprovalOption(StrEnum):
    """What the approver of a reclaim can answer (the options of the ``approve`` task's request)."""

    APPROVE = "Approve"
    APPROVE_ALL_BUT = "Approve all but the listed users"
    REJECT = "Reject"


class ApprovalDecision(StrEnum):
    """``approval_decision`` of a candidate in an approval request (and of the ``reclaim_action`` rows
    written for it): what the answer decided for that candidate."""

    APPROVED = "approved"
    LEFT_OUT = "left_out"      # the approver listed its user: not written, stays open
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"    # no answer from a person within the response timeout
    REFUSED = "refused"        # the answer was not understood (an unknown user, Approve with users listed)


class TaskId(StrEnum):
    """The tasks of a profile DAG, in pipeline order (``job_result.task_id``, ``timeouts.per_task``)."""

    VALIDATE_PROFILE = "validate_profile"
    DOWNLOAD_SUBSCRIPTIONS = "download_subscriptions"
    SWEEP_ACTIVITY = "sweep_activity"
    PULL_ACTIVITY = "pull_activity"
    RECONCILE = "reconcile"
    APPROVE = "approve"
    RECLAIM = "reclaim"


_SQL_PREFIXES = {Mode: "mode", CandidateState: "state", Verdict: "verdict", Reason: "reason",
                 EventType: "event", UserStatus: "user", ApprovalDecision: "approval"}


def sql_params() -> dict[str, str]:
    """Every SQL-facing word as a bind parameter: ``{"state_ready": "ready", ...}``."""
    return {f"{prefix}_{member.name.lower()}": member.value
            for enum, prefix in _SQL_PREFIXES.items() for member in enum}
