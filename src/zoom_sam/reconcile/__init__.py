"""Reconcile: last activity, removal candidates with their evidence, license positions and the
threshold simulation of one profile as of a run (docs/reconcile.md has the rules).

``reconcile(engine, profile_alias, as_of, mode=..., run_id=...)`` is the whole process; the
operator in ``zoom_sam.operators.reconcile`` only calls it.
"""
from zoom_sam.reconcile.run import reconcile

__all__ = ["reconcile"]
