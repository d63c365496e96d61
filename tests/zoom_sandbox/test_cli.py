"""``python -m zoom_sandbox``: the standalone server the demo and benchmarks start."""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys

import pytest
import requests

from zoom_sandbox.cli import build_parser, config_from_args, parse_fault



@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("status:500:0.01", ("status", {"status": 500, "probability": 0.01})),
        ("drop:0.005", ("drop", {"probability": 0.005})),
        ("slow:2.5:every=50", ("slow", {"delay_s": 2.5, "every": 50})),
        ("burst_429:count=20:path=/users$", ("burst_429", {"count": 20, "path": "/users$"})),
        ("expire_tokens:every=1000", ("expire_tokens", {"every": 1000})),
        ("ignore_window", ("ignore_window", {})),
        ("malformed:missing:field=feature:path=/settings$",
         ("malformed", {"shape": "missing", "field": "feature", "path": "/settings$"})),
        ("stop_listing:count=1", ("stop_listing", {"count": 1})),
    ],
)
def test_fault_specs(spec, expected):
    assert parse_fault(spec) == expected


@pytest.mark.parametrize("spec", ["meteor:0.1", "drop:0.1:0.2", "status:abc", "slow:1:every=x"])
def test_bad_fault_specs(spec):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_fault(spec)


@pytest.mark.parametrize("spec", ["Medium", "Huge=5", "Light=fast"])
def test_bad_rate_limits(spec):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--rate-limit", spec])


def test_arguments_build_the_config():
    args = build_parser().parse_args(
        ["--users", "2000", "--seed", "9", "--plan", "pro", "--anchor", "2026-11-28", "--scopes", "a b", "--retry-after", "seconds",
         "--rate-limit", "Medium=1000"]
    )
    cfg = config_from_args(args)
    acct = cfg.accounts[0]
    assert (acct.users, acct.seed, acct.plan, acct.scopes) == (2000, 9, "pro", ("a", "b"))
    assert (acct.limit("Medium"), acct.limit("Light")) == (1000, 30)
    assert cfg.anchor.isoformat() == "2026-11-28T00:00:00+00:00"
    assert cfg.retry_after == "seconds"


def test_standalone_server_serves_until_sigterm():
    env = dict(os.environ)
    proc = subprocess.Popen(
        [sys.executable, "-m", "zoom_sandbox", "--port", "0", "--users", "50", "--anchor", "2026-11-28",
         "--fault", "status:503:count=1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        printed = {}
        for line in proc.stdout:
            key, sep, value = line.partition(":")
            if sep and key in ("base_url", "oauth_url", "client_id", "connection"):
                printed[key] = value.strip()
            if line.startswith("Stop with"):
                break
        assert "secret" not in "".join(printed.values())
        root = printed["base_url"].removesuffix("/v2")
        conn = requests.get(f"{root}/_sandbox/connection", timeout=10).json()
        assert conn["host"] == printed["base_url"] and conn["login"] == printed["client_id"] == "sandbox-client"
        access = requests.post(
            printed["oauth_url"],
            data={"grant_type": "account_credentials", "account_id": conn["extra"]["account_id"]},
            auth=(conn["login"], conn["password"]),
            timeout=10,
        )
        assert access.status_code == 503  # the --fault fired on the first request
        access = requests.post(
            printed["oauth_url"],
            data={"grant_type": "account_credentials", "account_id": conn["extra"]["account_id"]},
            auth=(conn["login"], conn["password"]),
            timeout=10,
        ).json()["access_token"]
        users = requests.get(f"{printed['base_url']}/users", headers={"Authorization": f"Bearer {access}"}, timeout=10)
        assert users.status_code == 200 and users.json()["total_records"] > 40
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
