"""Benchmarks: each module measures one process against the sandbox and prints its figures."""
