"""Readable reports of a reclaim: the approval request, the dry run and the task log's summary.

A SAM manager decides from these, so each candidate line says who, which model, what will be
(or was) sent to Zoom, the last activity the decision rests on, and the yearly saving.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from zoom_sam.reclaim.model import Candidate, Result
from zoom_sam.vocabulary import RECLAIMABLE_STATES, CandidateState

TABLE_LIMIT = 200


def planned_change(cand: Candidate) -> str:
    """What reclaiming ``cand`` sends, in words, as far as the warehouse knows before the re-check."""
    if cand.is_seat and cand.is_pending:
        return "remove the pending invitation (disassociate)"
    if cand.is_seat:
        return "downgrade to Basic (its add-ons removed first)"
    return f"remove the {cand.addon.replace('_', ' ')} add-on"


def money(amount: Decimal, currency: str | None) -> str:
    return f"{amount:,.2f} {currency or ''}".rstrip()


def per_model(cands: Iterable[Candidate]) -> list[tuple[str, int, Decimal, str | None]]:
    """(model, subscriptions, yearly saving, currency) per model, sorted by model."""
    count: dict[str, int] = defaultdict(int)
    saving: dict[str, Decimal] = defaultdict(Decimal)
    currency: dict[str, str | None] = {}
    for c in cands:
        count[c.software_model] += 1
        saving[c.software_model] += c.saving
        currency[c.software_model] = c.currency
    return [(m, count[m], saving[m], currency[m]) for m in sorted(count)]


def model_table(cands: Sequence[Candidate]) -> str:
    rows = per_model(cands)
    lines = ["| Software model | Subscriptions | Saving per year |", "|---|---:|---:|"]
    lines += [f"| `{m}` | {n} | {money(s, cur)} |" for m, n, s, cur in rows]
    total = sum((s for _, _, s, _ in rows), Decimal(0))
    currencies = {cur for *_, cur in rows}
    lines.append(f"| **total** | **{len(cands)}** | **{money(total, currencies.pop() if len(currencies) == 1 else '')}** |")
    return "\n".join(lines)


def user_table(cands: Sequence[Candidate], limit: int = TABLE_LIMIT, rest: str = "see the evidence query below") -> str:
    """One line per subscription, at most ``limit``; a last line counts the rest and says where (``rest``)."""
    lines = ["| User | Software model | Change | Last activity | Idle days | Saving |", "|---|---|---|---|---:|---:|"]
    for c in cands[:limit]:
        last = c.last_activity_at or "never (in the analysed window)"
        lines.append(
            f"| {_cell(c.email)} | `{c.software_model}` | {planned_change(c)} | {_cell(str(last))} | "
            f"{'' if c.inactive_days is None else c.inactive_days} | {money(c.saving, c.currency)} |"
        )
    if len(cands) > limit:
        lines.append(f"| … and {len(cands) - limit} more ({rest}) | | | | | |")
    return "\n".join(lines)


def evidence_query(profile_alias: str, as_of: datetime) -> str:
    """The warehouse query that shows every candidate's full evidence (rule, window, events seen)."""
    states = ", ".join(f"'{state}'" for state in RECLAIMABLE_STATES)
    return (
        "SELECT candidate_id, email, software_model, reason, evidence\n"
        "FROM removal_candidate\n"
        f"WHERE profile_alias = '{profile_alias}' AND evaluated_as_of = '{as_of:%Y-%m-%d %H:%M:%S}'\n"
        f"  AND state IN ({states})\n"
        "ORDER BY email;"
    )


def results_table(results: Sequence[Result], *, dry_run: bool, limit: int = TABLE_LIMIT) -> str:
    """Per candidate: user, model, outcome (or, in a dry run, what would happen), saving."""
    lines = ["| User | Software model | Outcome | Details | Saving |", "|---|---|---|---|---:|"]
    for r in sorted(results, key=lambda r: (r.candidate.email, r.candidate.software_model))[:limit]:
        state = r.state or f"open ({r.awaiting})"
        if dry_run:
            state = "would reclaim" if r.state == CandidateState.CLOSED_COMPLETE else f"would be {r.state}"
        saving = money(r.candidate.saving, r.candidate.currency) if r.state == CandidateState.CLOSED_COMPLETE else "-"
        lines.append(f"| {_cell(r.candidate.email)} | `{r.candidate.software_model}` | {state} | {_cell(r.detail)} | {saving} |")
    if len(results) > limit:
        lines.append(f"| … and {len(results) - limit} more (reclaim_action and removal_candidate hold all) | | | | |")
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
