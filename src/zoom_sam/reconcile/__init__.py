"""Reconcile: last activity, removal candidates with their evidence, license positions and the
threshold simulation of one profile as of a run (docs/reconcile.md has the rules).

The process is :func:`zoom_sam.reconcile.process.run`; its rule resolution per model is
:mod:`zoom_sam.reconcile.rules`.
"""
