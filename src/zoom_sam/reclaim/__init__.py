"""Reclaim unused Zoom subscriptions: dry run, approval or automatic; re-checked, guarded, journalled.

Two processes on the contract of :mod:`zoom_sam.process`: ``process.run`` reclaims (its module
docstring explains the order of events), ``approval.run`` builds the request a person approves.
"""
