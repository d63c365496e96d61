"""The warehouse locks of a profile, and which steps of its runs each one keeps apart.

Runs of one profile may be in flight together: a backfill runs up to ten at once whatever the
DAG's ``max_active_runs``, and a manual trigger runs beside the daily run. Their Zoom reads,
staging and activity sweeps may overlap; what changes the profile's current state must not:

* :data:`STATE`: the download merge, reconcile and reclaim. Each rewrites or acts on the
  profile's snapshot and its removal candidates and must see them as one run left them (a merge
  landing in the middle of a reconcile would open candidates for subscriptions that just ended;
  a reconcile in the middle of a reclaim would close candidates whose seats are being written).
* :data:`COVERAGE`: the activity coverage advance and the retention purge.

A task takes at most one lock, so two tasks can never wait for each other. Kept apart from the
mechanism (:mod:`zoom_sam.warehouse.locks`) because operators name their lock at DAG parse time.
"""
STATE = "state"
COVERAGE = "coverage"
