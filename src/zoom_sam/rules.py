"""Which reclamation rule applies to a software model: the one resolver every process uses.

A profile's rules are recorded in ``reclamation_rule`` by the run's download (in profile order,
plus an explicit 60-day ``default`` row for every model no rule matched). Every later task of the
run (reconcile, approve, reclaim) resolves from those recorded rows, never from the profile file as
it may read by then, so an edit between two tasks cannot make them disagree; the download itself
resolves from the profile it records.

Matching is fnmatch on model keys, first match in order: it cannot be written as SQL that SQLite
and PostgreSQL agree on, so it happens here, and reconcile writes the outcome per model and as-of
(``reconcile_rule``) for the set-based statements to join.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from zoom_sam.profiles import Profile

DEFAULT_THRESHOLD_DAYS = 60
PROFILE, DEFAULT = "profile", "default"


@dataclass(frozen=True)
class Rule:
    """One recorded reclamation rule (a ``reclamation_rule`` row)."""

    index: int
    pattern: str
    threshold_days: int
    disassociate_pending_invitations: bool = False
    source: str = PROFILE


@dataclass(frozen=True)
class RuleMatch:
    """The rule that applies to a model: its threshold and where it came from."""

    threshold_days: int
    pattern: str
    source: str
    rule_index: int | None = None
    disassociate_pending_invitations: bool = False


class Rules:
    """A run's reclamation rules, in order."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self.rules: tuple[Rule, ...] = tuple(sorted(rules, key=lambda r: r.index))

    @classmethod
    def from_profile(cls, profile: Profile) -> Rules:
        """The rules a profile file declares (the download records these)."""
        return cls(Rule(i, r.software_model, r.last_activity_threshold_days, r.disassociate_pending_invitations)
                   for i, r in enumerate(profile.rules))

    @classmethod
    def recorded(cls, conn: Connection, profile_alias: str) -> Rules:
        """The rules the profile's latest download recorded."""
        from zoom_sam.warehouse.schema import reclamation_rule as t

        rows = conn.execute(sa.select(t).where(t.c.profile_alias == profile_alias)).mappings()
        return cls(Rule(r["rule_index"], r["software_model_pattern"], r["last_activity_threshold_days"],
                        r["disassociate_pending_invitations"], r["source"]) for r in rows)

    def for_model(self, model: str) -> RuleMatch:
        """The first rule whose pattern matches ``model``; else the 60-day default, saying so.

        A recorded ``default`` row names its model exactly and reads back as the default it was,
        with its index, so the record of a threshold (``reconcile_rule``) points at the row.
        """
        for rule in self.rules:
            if fnmatchcase(model, rule.pattern):
                return RuleMatch(rule.threshold_days, rule.pattern, rule.source, rule.index,
                                 rule.disassociate_pending_invitations)
        return RuleMatch(DEFAULT_THRESHOLD_DAYS, model, DEFAULT)

    def recorded_rows(self, profile_alias: str, models: Sequence[str]) -> list[dict[str, Any]]:
        """``reclamation_rule`` rows: the profile's rules, then a default row per unmatched model."""
        own = [rule for rule in self.rules if rule.source == PROFILE]
        rows = [{"profile_alias": profile_alias, "rule_index": r.index, "software_model_pattern": r.pattern,
                 "last_activity_threshold_days": r.threshold_days,
                 "disassociate_pending_invitations": r.disassociate_pending_invitations, "source": PROFILE}
                for r in own]
        for model in sorted(set(models)):
            if self.for_model(model).source == DEFAULT:
                rows.append({"profile_alias": profile_alias, "rule_index": len(rows), "software_model_pattern": model,
                             "last_activity_threshold_days": DEFAULT_THRESHOLD_DAYS,
                             "disassociate_pending_invitations": False, "source": DEFAULT})
        return rows
