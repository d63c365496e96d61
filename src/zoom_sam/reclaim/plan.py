"""The writes that reclaim one user's subscriptions, in the order Zoom needs them.

* a webinar or large-meeting add-on: ``PATCH /users/{id}/settings {"feature": {<flag>: false}}``;
* the seat: ``PATCH /users/{id} {"type": 1}``, after the user's add-on candidates (Zoom may refuse
  or silently drop add-ons on a downgrade, so they go first and are confirmed gone). The re-check
  lets a seat through only when every add-on that needs it is one of those candidates, so the
  plan never removes anything that is not a candidate of its own, and the guards and the
  realised savings count every subscription removed;
* the seat of a pending invitation: ``DELETE /users/{email}?action=disassociate``.
"""
from __future__ import annotations

from collections.abc import Sequence

from zoom_sam.reclaim.model import DISASSOCIATE, DOWNGRADE, Action, Candidate, remove_action
from zoom_sam.rules import Rules


def final_action(cand: Candidate) -> Action:
    """The write whose success reclaims ``cand`` (the last one of its steps)."""
    if cand.is_seat:
        return Action(cand.candidate_id, DISASSOCIATE if cand.is_pending else DOWNGRADE, cand.user_id)
    return Action(cand.candidate_id, remove_action(cand.addon), cand.user_id, cand.addon)


def plan_user(go: Sequence[Candidate]) -> list[tuple[Candidate, Action]]:
    """Ordered (candidate, action) steps for one user's candidates that passed the re-check."""
    return [(c, final_action(c)) for c in sorted(go, key=lambda c: c.is_seat)]


def action_named(cand: Candidate, name: str) -> Action:
    """The action a journal row names, rebuilt for ``cand``."""
    if name in (DOWNGRADE, DISASSOCIATE):
        return Action(cand.candidate_id, name, cand.user_id)
    flag = name.removeprefix("remove_")
    return Action(cand.candidate_id, name, cand.user_id, flag)


def would_write(cand: Candidate, rules: Rules) -> bool:
    """Whether reclaiming ``cand`` involves a write at all, judged from the warehouse alone.

    Pending invitations are only removed when their rule opts in, and only the seat and the
    removable add-ons have a write; the guards count just the candidates that would be written.
    """
    if cand.is_seat:
        return not cand.is_pending or rules.for_model(cand.software_model).disassociate_pending_invitations
    return cand.addon is not None
