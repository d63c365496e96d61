"""The pull_activity process: what holders of paid Zoom subscriptions hosted -> warehouse.

Read ``docs/activity.md`` first. Modules, each with one job: ``window`` (what a run reads),
``holders`` (who, and which shard), ``sweep`` (the concurrent per-holder reads), ``occurrences``
(listing items -> rows, the window filter), ``store`` (batched idempotent writes), ``coverage``
(coverage and retention), ``host_report`` (the optional report source), ``progress`` (task log
lines), and the two processes the operators run: ``shard`` (one shard of the sweep) and
``completion`` (coverage and retention once every shard succeeded).
"""
