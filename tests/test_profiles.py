"""Profile files: what loads, and what a user sees when a file is wrong."""
from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from zoom_sam.profiles import (
    ActivityStartError,
    ProfileError,
    activity_start,
    check_activity_start,
    load_profile,
    load_profiles,
    profile_files,
    profiles_dir,
)

GOOD = """\
alias: acme
zoom_conn_id: zoom_acme
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    return str(info.value)


def test_every_shipped_profile_is_valid():
    found = load_profiles(profiles_dir())
    assert found.errors == ()
    assert "demo" in {lp.profile.alias for lp in found.profiles}
    assert len(found.profiles) == len(profile_files())


def test_demo_profile_points_at_the_sandbox_and_the_embedded_warehouse():
    demo = load_profile(profiles_dir() / "demo.yaml")
    assert (demo.alias, demo.zoom_conn_id, demo.warehouse_conn_id) == ("demo", "zoom_demo", "zoom_sam_warehouse")
    assert demo.reclaim.mode == "dry_run"
    assert [u.pattern for u in demo.exclusions.users] == ["svc-*@example.com"]
    assert {"zoom_meetings_licensed"} < {e.software_model for e in demo.entitlements}
    assert any(e.software_model.startswith("zoom_webinar_") for e in demo.entitlements)


def test_minimal_profile_gets_documented_defaults(tmp_path):
    profile = load_profile(write(tmp_path, "acme.yaml", GOOD))
    assert profile.dag_id == "zoom_sam__acme"
    assert profile.warehouse_conn_id == "zoom_sam_warehouse"
    assert profile.max_lookback_days == 30
    assert profile.download_activity is True and profile.reclaim_subscriptions is False
    assert (profile.reclaim.mode, profile.reclaim.max_per_run, profile.reclaim.max_fraction) == ("dry_run", 25, 0.2)
    assert profile.pool is None and profile.analyze_activity_from is None
    assert (profile.timeouts.task_minutes, profile.timeouts.per_task, profile.timeouts.deadline_factor) == (360, {}, 3)


@pytest.mark.parametrize(
    "text, field, valid",
    [
        ("alias: acme\n", "zoom_conn_id", "is required"),
        (GOOD + "colour: red\n", "colour", "valid fields here: alias"),
        (GOOD + "download_activity: 'yes'\n", "download_activity", "true or false"),
        (GOOD + "max_lookback_days: '30'\n", "max_lookback_days", "whole number"),
        ("alias: Acme-Corp\nzoom_conn_id: z\n", "alias", "lower-case letters, digits and underscores"),
        (GOOD + "reclaim: {mode: manual}\n", "reclaim.mode", "'dry_run', 'approval' or 'automatic'"),
        (GOOD + "rules: [{software_model: zoom_*, last_activity_threshold_days: -1}]\n",
         "rules[0].last_activity_threshold_days", "from 1 to 36,500"),
        (GOOD + "reclaim: {max_fraction: 1.5}\n", "reclaim.max_fraction", "from 0 to 1"),
        (GOOD + "exclusions: {users: [{email: 'a*', dept: Sales}]}\n", "exclusions.users[0]", "exactly one of"),
        (GOOD + "analyze_activity_from: not-a-date\n", "analyze_activity_from", "YYYY-MM-DD"),
        (GOOD + "identifier_models: {'webinar:500': my_webinar}\n", "identifier_models",
         "already modelled as 'zoom_webinar_500'"),
        (GOOD + "entitlements: [{software_model: x, purchased: 1}, {software_model: x, purchased: 2}]\n",
         "entitlements", "listed twice"),
        (GOOD + "timeouts: {task_minutes: 0}\n", "timeouts.task_minutes", "from 1 to 1,440"),
        (GOOD + "timeouts: {task_minutes: 2000}\n", "timeouts.task_minutes", "from 1 to 1,440"),
        (GOOD + "timeouts: {per_task: {sweep: 30}}\n", "timeouts.per_task['sweep'] (the key)",
         "'validate_profile', 'download_subscriptions', 'sweep_activity'"),
        (GOOD + "timeouts: {per_task: {reclaim: -1}}\n", "timeouts.per_task['reclaim']", "from 1 to 1,440"),
        (GOOD + "timeouts: {deadline_factor: 0.5}\n", "timeouts.deadline_factor", "a number from 1 to 100"),
    ],
)
def test_a_bad_field_is_named_with_what_would_be_valid(tmp_path, text, field, valid):
    message = error_of(write(tmp_path, "bad.yaml", text))
    assert str(tmp_path / "bad.yaml") in message
    assert f"field '{field}'" in message
    assert valid in message


def test_yaml_syntax_and_shape_errors_name_the_file_and_the_line(tmp_path):
    assert "line 2" in error_of(write(tmp_path, "broken.yaml", "alias: [\n"))
    assert "empty file" in error_of(write(tmp_path, "empty.yaml", ""))
    assert "mapping of profile fields" in error_of(write(tmp_path, "list.yaml", "- alias: x\n"))


def test_a_bad_file_does_not_hide_the_good_ones_and_duplicate_aliases_keep_the_first(tmp_path):
    write(tmp_path, "a_acme.yaml", GOOD)
    write(tmp_path, "b_copy.yml", GOOD)
    write(tmp_path, "c_bad.yaml", "alias: globex\n")
    write(tmp_path, "d_globex.yaml", "alias: globex\nzoom_conn_id: zoom_globex\n")
    write(tmp_path, "notes.txt", "not a profile")
    found = load_profiles(tmp_path)
    assert [(lp.path.name, lp.profile.alias) for lp in found.profiles] == [
        ("a_acme.yaml", "acme"), ("d_globex.yaml", "globex")]
    errors = {e.path.name: str(e) for e in found.errors}
    assert set(errors) == {"b_copy.yml", "c_bad.yaml"}
    assert "field 'alias'" in errors["b_copy.yml"] and "already the alias of a_acme.yaml" in errors["b_copy.yml"]


def test_analyze_activity_from_is_not_checked_against_the_wall_clock_at_load(tmp_path):
    profile = load_profile(write(tmp_path, "old.yaml", GOOD + "analyze_activity_from: 2019-01-01\n"))
    assert profile.analyze_activity_from == date(2019, 1, 1)


def test_analyze_activity_from_is_checked_against_the_first_runs_as_of(tmp_path):
    as_of = datetime(2026, 11, 28, tzinfo=timezone.utc)
    ok = load_profile(write(tmp_path, "ok.yaml", GOOD + "analyze_activity_from: 2026-10-29\n"))
    check_activity_start(ok, as_of)
    assert activity_start(ok, as_of) == datetime(2026, 10, 29, tzinfo=timezone.utc)
    early = load_profile(write(tmp_path, "early.yaml", GOOD + "analyze_activity_from: 2026-10-28\n"))
    with pytest.raises(ActivityStartError, match="use a date from 2026-10-29 to 2026-11-28"):
        check_activity_start(early, as_of)
    late = load_profile(write(tmp_path, "late.yaml", GOOD + "analyze_activity_from: 2026-11-29\n"))
    with pytest.raises(ActivityStartError, match="analyze_activity_from"):
        check_activity_start(late, as_of)


def test_omitted_activity_start_is_the_first_as_of_minus_the_lookback(tmp_path):
    profile = load_profile(write(tmp_path, "p.yaml", GOOD + "max_lookback_days: 14\n"))
    as_of = datetime(2026, 11, 28, tzinfo=timezone.utc)
    check_activity_start(profile, as_of)
    assert activity_start(profile, as_of) == datetime(2026, 11, 14, tzinfo=timezone.utc)
