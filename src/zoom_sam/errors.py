"""The project's error hierarchy: every error zoom-sam raises on purpose is a ``ZoomSamError``.

One attribute decides what Airflow does with it: ``retryable``. An error a retry cannot fix (an
invalid profile, a missing scope only an admin can grant, a guard that refused the run, a dead
refresh-token chain) fails the task at once, everywhere, through the operators' common base; one a
later attempt can fix (Zoom down, an incomplete listing, a lock held elsewhere) is left to
Airflow's retries. Subclasses set the class default; a few decide per instance.
"""
from __future__ import annotations


class ZoomSamError(Exception):
    """Base of zoom-sam's errors; not retryable unless a subclass or the instance says so."""

    retryable: bool = False


class RetryableError(ZoomSamError):
    """A failure a later attempt may not meet: Airflow's retries take it."""

    retryable = True


class ConfigurationError(ZoomSamError, ValueError):
    """Something a person configured (a profile, a connection) is invalid; nothing runs until fixed."""
