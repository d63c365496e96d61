"""``[core] hostname_callable`` of the stack's workers.

A task instance records the host its worker reports through this callable, not the Celery node
name. Containers have hostnames of their own; two workers on one machine do not, so each is given
its own name in ``ZOOM_SAM_STACK_HOSTNAME`` and the test can tell where every shard ran.
"""
from __future__ import annotations

import os
import socket


def worker_hostname() -> str:
    return os.environ.get("ZOOM_SAM_STACK_HOSTNAME") or socket.getfqdn()
