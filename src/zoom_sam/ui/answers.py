"""The content of each view, shared by the JSON API and the HTML pages (which render the same dicts).

Every function opens the profile's warehouse for one answer. A warehouse no run has created
tables in yet answers like an empty one: the profile is ``never_run`` and its lists are empty.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from zoom_sam.profiles import Profile
from zoom_sam.ui import queries
from zoom_sam.ui.catalog import next_runs, reading
from zoom_sam.ui.queries import CandidateFilter, Paging, SubscriptionFilter


def _identity(profile: Profile) -> dict[str, str]:
    return {"alias": profile.alias, "display_name": profile.display_name, "dag_id": profile.dag_id}


def profile_summaries(profiles: list[Profile]) -> list[dict[str, Any]]:
    """The overview: each profile's state, last run per task, activity coverage and next run."""
    planned = next_runs([p.dag_id for p in profiles])
    summaries = []
    for profile in profiles:
        with reading(profile) as conn:
            last_runs = queries.latest_jobs(conn, profile.alias) if conn is not None else {}
            covered = queries.coverage(conn, profile.alias) if conn is not None else None
            positioned = bool(conn is not None and queries.as_ofs(conn, profile.alias))
        next_run = planned[profile.dag_id]
        summaries.append({**_identity(profile), "state": queries.state_of(last_runs, positioned),
                          "last_runs": last_runs, "coverage": covered,
                          "next_run": next_run.isoformat() if next_run else None})
    return summaries


def profile_detail(profile: Profile) -> dict[str, Any]:
    """The profile's non-secret settings and the lists its last run recorded."""
    lists: dict[str, Callable] = {"software_models": queries.software_models,
                                  "exclusion_rules": queries.exclusion_rules, "entitlements": queries.entitlements}
    with reading(profile) as conn:
        found = {name: read(conn, profile.alias) if conn is not None else [] for name, read in lists.items()}
    return {**_identity(profile), "settings": profile.settings(), **found}


def position(profile: Profile, as_of: datetime | None) -> dict[str, Any]:
    """The license position at ``as_of`` (default: the latest), its history and the charts' data.

    An ``as_of`` without a position gives empty models (the list of as-ofs says which exist).
    """
    with reading(profile) as conn:
        available = queries.as_ofs(conn, profile.alias) if conn is not None else []
        chosen = as_of or (datetime.fromisoformat(available[0]) if available else None)
        if chosen is None or conn is None:
            models, history, simulated = [], [], []
        else:
            models = queries.position(conn, profile.alias, chosen)
            history = queries.position_history(conn, profile.alias, chosen)
            simulated = queries.simulation(conn, profile.alias, chosen)
    currencies = {m["currency"] for m in models if m["currency"]}
    return {
        "as_of": chosen.isoformat() if chosen else None,
        "as_ofs": available,
        "currency": currencies.pop() if len(currencies) == 1 else None,
        "models": [{k: v for k, v in m.items() if k != "last_activity"} for m in models],
        "history": history,
        "last_activity": [{"software_model": m["software_model"], "bucket": bucket, "subscriptions": count}
                          for m in models for bucket, count in m["last_activity"].items()],
        "simulation": simulated,
    }


def _page(read: Callable[..., tuple[int, list[dict]]], profile: Profile, paging: Paging, *args) -> dict[str, Any]:
    with reading(profile) as conn:
        total, rows = read(conn, profile.alias, *args, paging) if conn is not None else (0, [])
    return {"total": total, "page": paging.page, "page_size": paging.size, "rows": rows}


def candidates(profile: Profile, where: CandidateFilter, paging: Paging) -> dict[str, Any]:
    return _page(queries.candidates, profile, paging, where)


def candidate_choices(profile: Profile) -> dict[str, list[str]]:
    """What the candidates page's filters offer: the profile's models and as-ofs."""
    with reading(profile) as conn:
        if conn is None:
            return {"models": [], "as_ofs": []}
        return {"models": [m["software_model"] for m in queries.software_models(conn, profile.alias)],
                "as_ofs": queries.as_ofs(conn, profile.alias)}


def subscriptions(profile: Profile, where: SubscriptionFilter, paging: Paging) -> dict[str, Any]:
    return _page(queries.subscriptions, profile, paging, where)


def jobs(profile: Profile, paging: Paging) -> dict[str, Any]:
    return _page(queries.jobs, profile, paging)


def unrecognized(profile: Profile) -> dict[str, Any]:
    with reading(profile) as conn:
        rows = queries.unrecognized(conn, profile.alias) if conn is not None else []
    return {"rows": [{"identifier": r["identifier"], "subscriptions": r["subscription_count"],
                      "first_seen_at": r["first_seen_at"], "last_seen_at": r["last_seen_at"]} for r in rows]}
