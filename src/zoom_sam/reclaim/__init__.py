"""Reclaim unused Zoom subscriptions: dry run, approval or automatic; re-checked, guarded, journalled.

:func:`reclaim` is the entry point (``run.py`` explains the order of events); the approval step's
request and decision live in ``approval.py``. The operators in ``zoom_sam.operators.reclaim``
only call these.
"""
from zoom_sam.reclaim.guards import GuardExceeded
from zoom_sam.reclaim.run import Outcome, ReclaimIncomplete, ReclaimNotApproved, reclaim

__all__ = ["GuardExceeded", "Outcome", "ReclaimIncomplete", "ReclaimNotApproved", "reclaim"]
