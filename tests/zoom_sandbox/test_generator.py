"""The synthetic account: deterministic, lazily generated, and a realistic mix."""
from __future__ import annotations

import re
import time
import tracemalloc
from collections import Counter
from datetime import timedelta

import pytest

from zoom_sandbox import AccountConfig
from zoom_sandbox.account import Account
from zoom_sandbox.clock import SandboxClock

from tests.zoom_sandbox.sandbox_client import ANCHOR


def account(users: int, seed: int = 7, **kw) -> Account:
    return Account(AccountConfig(users=users, seed=seed, **kw), ANCHOR, SandboxClock(ANCHOR))


@pytest.fixture(scope="module")
def big():
    """5,000 users: enough for the mix to show, small enough to scan in a second."""
    acct = account(5000)
    return acct, list(acct.users())


def test_same_seed_same_account_different_seed_different_account():
    a, b, c = account(400), account(400), account(400, seed=8)
    users_a = list(a.users())
    assert users_a == list(b.users())
    assert [u["email"] for u in users_a] != [u["email"] for u in c.users()]
    some = [u for u in users_a if "id" in u][::37]
    for u in some:
        assert a.instances(u["id"]) == b.instances(u["id"])


def test_generation_is_pinned_to_known_values():
    """The same seed must give the same account on every machine and Python version: these
    values come from the generator itself and change only when it is changed on purpose."""
    acct = account(10)
    owner = acct.user("emma.taylor000000@example.com")
    assert owner["id"] == "ck96rShzLetF55eG1FefPA"
    assert (owner["type"], owner["role_id"], owner["dept"]) == (2, "0", "IT")
    first = acct.instances(owner["id"])[0]
    assert (first["uuid"], first["start_time"], first["duration"]) == ("ABVMlKXofI11OwT/laOZ6Q==", "2025-10-24T08:15:00Z", 25)


def test_users_are_generated_lazily():
    started = time.perf_counter()
    account(100_000)
    assert time.perf_counter() - started < 1.0
    tracemalloc.start()
    acct = account(100_000)
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert size < 4_000_000  # a few arrays of indexes, not 100,000 users
    assert sum(acct.total(s) for s in ("active", "inactive", "pending")) == 100_000
    last = acct.profile_at(99_999)
    assert acct.user(last.email)["email"] == last.email
    if last.status != "pending":
        assert acct.user(last.uid)["email"] == last.email


def test_status_and_type_mix(big):
    _, users = big
    n = len(users)
    mix = Counter((u["status"], u["type"]) for u in users)
    status = Counter(u["status"] for u in users)
    assert 0.02 < status["pending"] / n < 0.04
    assert 0.02 < status["inactive"] / n < 0.04
    assert 0.50 < mix[("active", 1)] / n < 0.60
    assert 0.30 < mix[("active", 2)] / n < 0.40
    assert mix[("active", 4)] > 0 and mix[("active", 99)] > 0
    assert mix[("pending", 2)] > 0 and mix[("pending", 1)] > 0  # some invitations hold a seat


def test_emails_are_unique_and_shaped_like_the_project_expects(big):
    _, users = big
    emails = [u["email"] for u in users]
    assert len(set(emails)) == len(emails)
    assert all(re.fullmatch(r"[a-z.\-]+\d{6}@example\.com", e) for e in emails)
    service = [u for u in users if u["email"].startswith("svc-")]
    assert service and all(u["type"] == 2 for u in service)


def test_attributes_vary(big):
    _, users = big
    assert len({u["dept"] for u in users}) >= 10
    assert len({u["role_id"] for u in users}) >= 4
    assert len({g for u in users for g in u["group_ids"]}) >= 6
    assert any(not u["group_ids"] for u in users)


def test_addons_of_licensed_users(big):
    _, users = big
    licensed = [u for u in users if u["status"] == "active" and u["type"] == 2]
    feature = Counter(name for u in licensed for name, on in u["settings"]["feature"].items() if on is True)
    assert 0.07 < feature["webinar"] / len(licensed) < 0.13
    assert 0.015 < feature["large_meeting"] / len(licensed) < 0.05
    assert 0.01 < feature["zoom_phone"] / len(licensed) < 0.035
    assert feature["zoom_events"] > 0
    capacities = {u["settings"]["feature"]["webinar_capacity"] for u in licensed if u["settings"]["feature"]["webinar"]}
    assert capacities == {500, 1000, 3000}
    basic = [u for u in users if u["type"] == 1]
    assert not any(u["settings"]["feature"][f] for u in basic for f in ("webinar", "large_meeting", "zoom_events"))


def test_hosting_recency_is_spread(big):
    acct, users = big
    licensed = [u for u in users if u["status"] == "active" and u["type"] == 2][:800]
    bands = Counter()
    for u in licensed:
        last = acct.last_hosted(u["id"])
        if last is None:
            bands["never"] += 1
            continue
        ago = (ANCHOR - last).days
        bands[next(b for b, limit in (("week", 7), ("month", 30), ("30-60", 60), ("60-120", 120), ("older", 10**6)) if ago < limit)] += 1
    n = len(licensed)
    assert 0.40 < bands["week"] / n < 0.60
    assert 0.12 < bands["never"] / n < 0.28
    assert bands["30-60"] / n > 0.04 and bands["60-120"] / n > 0.03


def test_some_basic_users_host_and_some_webinar_holders_host_webinars(big):
    acct, users = big
    basic = [u for u in users if u["status"] == "active" and u["type"] == 1][:500]
    assert 0.05 < sum(acct.last_hosted(u["id"]) is not None for u in basic) / len(basic) < 0.2
    holders = [u for u in users if u["settings"]["feature"]["webinar"]]
    hosting = [u for u in holders if acct.last_hosted(u["id"], kind="webinars")]
    assert 0.5 < len(hosting) / len(holders) < 0.95


def test_history_spans_400_days_and_creation_dates_spread(big):
    acct, users = big
    assert acct.history_start == ANCHOR - timedelta(days=400)
    starts = [i["start_time"] for u in users[:300] if "id" in u for i in acct.instances(u["id"])]
    assert min(starts) < (ANCHOR - timedelta(days=300)).strftime("%Y-%m-%d")
    created = [u["user_created_at"] for u in users if u["status"] == "active"]
    recent = sum(c >= (ANCHOR - timedelta(days=30)).strftime("%Y-%m-%d") for c in created)
    assert 0.02 < recent / len(created) < 0.08
    assert min(created) < "2022"


def test_some_users_have_upcoming_meetings(big):
    acct, users = big
    sample = [u for u in users if u["status"] == "active" and u["type"] == 2][:300]
    upcoming = [u for u in sample if any(i["start_time"] > ANCHOR.strftime("%Y-%m-%dT%H:%M:%SZ") for i in acct.instances(u["id"]))]
    assert 0.1 < len(upcoming) / len(sample) < 0.4
    stale_with_upcoming = [u for u in upcoming if (last := acct.last_hosted(u["id"])) is None or (ANCHOR - last).days > 30]
    assert stale_with_upcoming  # the case a reclaim must not touch


def test_zoom_rooms_refuse_reclaim(big):
    acct, users = big
    rooms = [u for u in users if u["first_name"] == "Zoom Room"]
    assert rooms
    assert {acct.refusal(u["id"])[0] for u in rooms} == {200}
    assert all(acct.last_hosted(u["id"]) is None for u in rooms)


def test_meeting_uuids_are_unique(big):
    acct, users = big
    uuids = [i["uuid"] for u in users[:400] if "id" in u for i in acct.instances(u["id"])]
    assert len(uuids) == len(set(uuids)) > 1000
