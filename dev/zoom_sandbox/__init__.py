"""A local Zoom API server: the demo, the integration tests and the benchmarks run against it.

It serves the Zoom paths the project uses with Zoom's OAuth, paging, per-account rate limits,
scopes and error bodies, over a deterministic synthetic account of any size, and it can inject
the failures real clients meet. ``python -m zoom_sandbox --help`` runs it standalone.
"""
from .account import Account
from .config import DEFAULT_SCOPES, AccountConfig, SandboxConfig
from .server import SandboxServer

__all__ = ["Account", "AccountConfig", "DEFAULT_SCOPES", "SandboxConfig", "SandboxServer"]
