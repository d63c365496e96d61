"""Thin operators, one per process; the work is in the library modules they call."""
