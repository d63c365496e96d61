"""Reclaiming one user: pick up an interrupted attempt, re-check, write, confirm, close.

Runs once per user (a user's seat and add-ons together, because the add-ons must go before the
seat), many users concurrently; every call goes through the client's shared rate limiters.

Exactly once, per write: the intent row is committed, then the request is sent, then the outcome
is recorded (``journal.py``). When Zoom's answer is lost (:class:`ZoomUncertainOutcome`) or a
previous attempt died after its intent, the user's state is read and only a write that shows no
effect is sent again, never one on a guess. Zoom's refusals close the candidate as
``attention_required`` with Zoom's code and message; a 404/1001 as ``closed_skipped``.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from zoom_sam.reclaim import effects
from zoom_sam.reclaim.journal import Closing, Journal
from zoom_sam.reclaim.model import (
    DISASSOCIATE,
    DOWNGRADE,
    NOT_APPLIED,
    NOT_FOUND,
    REFUSED,
    SUCCEEDED,
    UNCERTAIN,
    UNRESOLVED,
    Action,
    Candidate,
    Result,
)
from zoom_sam.reclaim.plan import action_named, final_action, plan_user
from zoom_sam.reclaim.recheck import check_user
from zoom_sam.reclaim.seen_use import record_seen_use
from zoom_sam.reclaim.users import UserRecords
from zoom_sam.rules import Rules
from zoom_sam.vocabulary import CandidateState, UserStatus
from zoom_sam.zoom.errors import ZoomApiError, ZoomNotFound, ZoomUncertainOutcome

if TYPE_CHECKING:
    from zoom_sam.zoom.client import ZoomClient

log = logging.getLogger(__name__)

# Sends of one write in one attempt when each answer is lost and the state shows no effect.
MAX_SENDS = 3
# Before reading whether a write whose answer was lost took effect: a 502 from a proxy can arrive
# while Zoom is still applying the change, and reading too early would send it twice.
SETTLE_PAUSE_SECONDS = 2.0
# Seats closed per transaction after the confirming listing.
CLOSE_BATCH = 500
SETTINGS_SOURCE = "GET /users/{id}/settings"
# Each candidate's journal rows by action (``Journal.entries``), by candidate id.
_Entries = dict[int, dict[str, dict[str, Any]]]


@dataclass(frozen=True)
class _Sent:
    ok: bool
    gone: bool = False
    reason: str = ""
    uncertain: bool = False


class UserReclaim:
    """Reclaims the candidates of one user at a time; shared by the worker threads of a run."""

    def __init__(self, client: ZoomClient, journal: Journal, records: UserRecords, *,
                 excluded_identifiers: Sequence[str], rules: Rules,
                 settle_pause: float = SETTLE_PAUSE_SECONDS) -> None:
        self.client = client
        self.journal = journal
        self.records = records
        self.settle_pause = settle_pause
        self.excluded_identifiers = excluded_identifiers
        self.rules = rules

    # ------------------------------------------------------------------ one user

    def __call__(self, cands: Sequence[Candidate]) -> list[Result]:
        """Results for every candidate of the user; those it could not finish stay open ("error")."""
        results: dict[int, Result] = {}
        try:
            self._user(cands, results)
        except Exception as exc:  # noqa: BLE001 - one user's failure must not stop the others
            log.warning("reclaim of %s stopped: %s: %s", cands[0].email, type(exc).__name__, exc)
            for c in cands:
                results.setdefault(c.candidate_id, Result(c, None, f"{type(exc).__name__}: {exc}", awaiting="error"))
        return list(results.values())

    def _user(self, cands: Sequence[Candidate], results: dict[int, Result]) -> None:
        # Read once: resuming sends nothing, so the attempts each write counts stay what they were.
        entries = {c.candidate_id: self.journal.entries(c.candidate_id) for c in cands}
        self._resume(cands, entries, results)
        todo = [c for c in cands if c.candidate_id not in results]
        if not todo:
            return
        check = check_user(self.client, todo, self.records.get(todo[0].user_id),
                           excluded_identifiers=self.excluded_identifiers, rules=self.rules)
        record_seen_use(self.journal.engine, self.journal.profile_alias, todo[0].user_id, check.seen)
        for c in todo:
            verdict = check.verdicts.get(c.candidate_id)
            if verdict is not None:
                self._finish(c, verdict.state, verdict.reason, results)
        go = check.go(todo)
        if go:
            self._act(go, plan_user(go), entries, results)

    def _act(self, go: list[Candidate], steps: list[tuple[Candidate, Action]], entries: _Entries,
             results: dict[int, Result]) -> None:
        seat = next((c for c in go if c.is_seat), None)
        removed: list[tuple[Candidate, Action]] = []
        for c, action in steps:
            if action.flag is None or c.candidate_id in results:
                continue
            sent = self._send(c, action, entries[c.candidate_id].get(action.name))
            if sent.ok:
                removed.append((c, action))
            elif sent.gone:
                for other in go:
                    self._finish(other, CandidateState.CLOSED_SKIPPED, sent.reason, results, write=other is not c)
                return
            else:
                self._failed(c, action, sent, results)
                if seat is not None and c is not seat:
                    self._failed(seat, None, sent, results, why=f"seat not downgraded because removing "
                                                              f"{action.flag} first did not succeed")
        if removed and not self._confirm_addons(go, seat, removed, results):
            return
        if seat is None or seat.candidate_id in results:
            return
        action = final_action(seat)
        sent = self._send(seat, action, entries[seat.candidate_id].get(action.name))
        if sent.ok:
            self._confirm_seat(seat, action, results)
        elif sent.gone:
            results[seat.candidate_id] = Result(seat, CandidateState.CLOSED_SKIPPED, sent.reason, [action])
        else:
            self._failed(seat, action, sent, results)

    # ------------------------------------------------------------------ writes

    def _send(self, c: Candidate, action: Action, previous: dict[str, Any] | None) -> _Sent:
        for _ in range(MAX_SENDS):
            self.journal.intent(c, action, previous)
            previous = {"attempts": ((previous or {}).get("attempts") or 0) + 1}
            try:
                _call(self.client, action)
            except ZoomUncertainOutcome as exc:
                done = self._applied_now(action)
                if done:
                    self.journal.outcome(c, action, SUCCEEDED, http_status=exc.status,
                                         message=f"{exc} -- a state read shows it applied")
                    return _Sent(ok=True)
                if done is None:
                    reason = f"outcome of {action.call} unknown ({exc}); the next attempt reads the user's state first"
                    self.journal.outcome(c, action, UNCERTAIN, http_status=exc.status, message=str(exc))
                    return _Sent(ok=False, uncertain=True, reason=reason)
                self.journal.outcome(c, action, NOT_APPLIED, http_status=exc.status,
                                     message=f"{exc} -- a state read shows it was not applied; sending it again")
                continue
            except ZoomNotFound as exc:
                reason = f"gone: Zoom answered {action.call} with {exc.code or exc.status} ({exc.message})"
                self.journal.outcome(c, action, NOT_FOUND, http_status=exc.status, zoom_code=exc.code,
                                     message=exc.message, close=(CandidateState.CLOSED_SKIPPED, reason))
                return _Sent(ok=False, gone=True, reason=reason)
            except ZoomApiError as exc:
                reason = f"Zoom refused {action.call}: code {exc.code}: {exc.message}"
                self.journal.outcome(c, action, REFUSED, http_status=exc.status, zoom_code=exc.code,
                                     message=exc.message, close=(CandidateState.ATTENTION_REQUIRED, reason))
                return _Sent(ok=False, reason=reason)
            # Zoom answers these writes 204; the client returns nothing for any 2xx.
            self.journal.outcome(c, action, SUCCEEDED, http_status=204)
            return _Sent(ok=True)
        reason = f"{action.call}: the answer was lost {MAX_SENDS} times and the change is not applied"
        return _Sent(ok=False, uncertain=True, reason=reason)

    def _applied_now(self, action: Action) -> bool | None:
        """Read the state after a short pause; None when no read with the granted scopes can tell
        (yet): the listing after the run does."""
        if effects.reads_record(action) and not self.records.per_user:
            return None
        time.sleep(self.settle_pause)
        if effects.reads_record(action):
            return effects.applied(action, record=self.records.fresh([action.user_id], ()).get(action.user_id))
        return effects.applied(action, settings=self._settings(action.user_id))

    # ------------------------------------------------------------------ confirmation

    def _confirm_addons(self, go, seat, removed, results) -> bool:
        """One settings re-read for all add-ons removed; False when the seat must not go on."""
        settings = self._settings(go[0].user_id)
        ok = True
        for c, action in removed:
            text = effects.describe(action, SETTINGS_SOURCE, settings=settings)
            self.journal.confirm(c, action, text)
            if not effects.applied(action, settings=settings):
                ok = False
                reason = f"Zoom answered 2xx to {action.call} but {text}"
                self._finish(c, CandidateState.ATTENTION_REQUIRED, reason, results, actions=[action])
                if seat is not None and c is not seat:
                    self._finish(seat, CandidateState.ATTENTION_REQUIRED, f"seat not downgraded: {reason}", results)
            elif c is not seat:
                self._finish(c, CandidateState.CLOSED_COMPLETE, f"reclaimed: {action.call}", results, actions=[action],
                             confirmation=text)
        return ok

    def _confirm_seat(self, seat: Candidate, action: Action, results: dict[int, Result]) -> None:
        if not self.records.per_user:
            # Confirmed for the whole run by the listing's pages afterwards (confirm_after_run).
            results[seat.candidate_id] = Result(seat, None, f"sent {action.call}", [action], awaiting="confirm")
            return
        record = self.records.fresh([seat.user_id], ()).get(seat.user_id)
        self._close_confirmed(seat, action, record, self.records.source, results)

    def _close_confirmed(self, c, action, record, source, results, resolved: str | None = None) -> None:
        closing = _closing(c, action, record, source)
        if resolved:
            self.journal.outcome(c, action, SUCCEEDED, message=resolved, confirmation=closing.confirmation)
        else:
            self.journal.confirm(c, action, closing.confirmation)
        self._finish(c, closing.state, closing.reason, results, actions=[action], confirmation=_kept(closing))

    def confirm_after_run(self, awaiting: list[Result]) -> list[Result]:
        """Confirm (or resolve) the seat writes of the run with one fresh read of the user records.

        Used when ``GET /users/{id}`` is not granted: the listing shows ``type`` with the seven
        default scopes, and only its pages that showed the written users are read again (the
        whole listing when an invitation was removed: its absence confirms it). The confirmed
        seats close in batches of :data:`CLOSE_BATCH` per transaction. A write whose outcome was
        unknown and shows no effect stays open; the next attempt re-checks the user and sends it
        again.
        """
        awaiting = [r for r in awaiting if r.actions and effects.reads_record(r.actions[-1])]
        if not awaiting:
            return []
        pending = any(r.candidate.is_pending for r in awaiting)
        statuses = [UserStatus.ACTIVE] + ([UserStatus.PENDING] if pending else [])
        records = self.records.fresh([r.candidate.user_id for r in awaiting], statuses,
                                     whole=any(r.actions[-1].name == DISASSOCIATE for r in awaiting))
        source = "GET /users listing after the writes"
        out: dict[int, Result] = {}
        confirmed = []
        for r in awaiting:
            c, action = r.candidate, r.actions[-1]
            record = records.get(c.user_id)
            if r.awaiting == "confirm":
                closing = _closing(c, action, record, source)
                confirmed.append(closing)
                out[c.candidate_id] = Result(c, closing.state, closing.reason, [action], _kept(closing))
            elif effects.applied(action, record=record):
                self._close_confirmed(c, action, record, source, out,
                                      resolved="the outcome was unknown; the listing after the run shows it applied")
            else:
                self.journal.outcome(c, action, NOT_APPLIED, message="the outcome was unknown; the listing after the "
                                     "run shows it was not applied (the next attempt re-checks and sends it again)")
                out[c.candidate_id] = r
        for start in range(0, len(confirmed), CLOSE_BATCH):
            self.journal.confirm_and_close(confirmed[start:start + CLOSE_BATCH])
        return list(out.values())

    # ------------------------------------------------------------------ an earlier attempt

    def _resume(self, cands: Sequence[Candidate], entries: _Entries, results: dict[int, Result]) -> None:
        """Settle what an earlier, interrupted attempt left: read the state, never re-send blindly.

        An intent without outcome is resolved by the state read (applied or not applied); a
        candidate whose own final write is known applied is confirmed by the same read and closed.
        Everything else goes through the normal re-check, which sends only what is still needed.
        """
        for c in cands:
            rows = entries[c.candidate_id]
            final = final_action(c)
            for name, row in rows.items():
                if row["status"] not in UNRESOLVED and not (name == final.name and row["status"] == SUCCEEDED):
                    continue
                action = action_named(c, name)
                done, record, settings, source = self._state(action)
                text = effects.describe(action, source, record=record, settings=settings)
                if row["status"] in UNRESOLVED:
                    self.journal.outcome(
                        c, action, SUCCEEDED if done else NOT_APPLIED, confirmation=text,
                        message="an earlier attempt stopped after its intent; the state read on retry shows the "
                        f"change {'applied' if done else 'was not applied'}")
                    if not done:
                        continue
                else:  # succeeded, not confirmed yet: the audit trail keeps what the read showed
                    self.journal.confirm(c, action, text)
                if name == final.name:
                    self._finish(c, CandidateState.CLOSED_COMPLETE if done else CandidateState.ATTENTION_REQUIRED,
                                 f"reclaimed: {action.call}" if done else f"Zoom accepted {action.call} earlier but {text}",
                                 results, actions=[action], confirmation=text)

    def _state(self, action: Action):
        """(applied?, record, settings, source) read now for ``action``."""
        if effects.reads_record(action):
            record = self.records.get(action.user_id)
            return effects.applied(action, record=record), record, None, self.records.source
        settings = self._settings(action.user_id)
        return effects.applied(action, settings=settings), None, settings, SETTINGS_SOURCE

    def _settings(self, user_id: str) -> dict[str, Any] | None:
        """The user's settings now; None when the user no longer exists (nothing is held then)."""
        try:
            return self.client.get_user_settings(user_id)
        except ZoomNotFound:
            return None

    # ------------------------------------------------------------------ closing

    def _finish(self, c: Candidate, state: CandidateState, reason: str, results: dict[int, Result], *, write: bool = True,
                actions: list[Action] | None = None, confirmation: str | None = None) -> None:
        if c.candidate_id in results:
            return
        if write:
            self.journal.close(c, state, reason)
        results[c.candidate_id] = Result(c, state, reason, actions or [], confirmation)

    def _failed(self, c: Candidate, action: Action | None, sent: _Sent, results: dict[int, Result],
                why: str | None = None) -> None:
        if c.candidate_id in results:
            return
        if sent.uncertain:
            results[c.candidate_id] = Result(c, None, why or sent.reason, [action] if action else [],
                                             awaiting="uncertain")
        elif why:
            self._finish(c, CandidateState.ATTENTION_REQUIRED, f"{why}: {sent.reason}", results)
        else:  # the refusal was closed with the journal outcome
            results[c.candidate_id] = Result(c, CandidateState.ATTENTION_REQUIRED, sent.reason)


def _call(client: ZoomClient, action: Action) -> None:
    if action.name == DOWNGRADE:
        client.update_user(action.user_id, {"type": 1})
    elif action.name == DISASSOCIATE:
        client.delete_user(action.user_id, action="disassociate")
    else:
        client.update_user_settings(action.user_id, {"feature": {action.flag: False}})


def _closing(c: Candidate, action: Action, record: dict[str, Any] | None, source: str) -> Closing:
    """How a confirmed write closes its candidate: complete when the record shows it applied."""
    text = effects.describe(action, source, record=record)
    if effects.applied(action, record=record):
        return Closing(c, action, text, CandidateState.CLOSED_COMPLETE, f"reclaimed: {action.call}")
    return Closing(c, action, text, CandidateState.ATTENTION_REQUIRED, f"Zoom answered 2xx to {action.call} but {text}")


def _kept(closing: Closing) -> str | None:
    """The confirmation a result carries: only a completed reclaim's."""
    return closing.confirmation if closing.state == CandidateState.CLOSED_COMPLETE else None
