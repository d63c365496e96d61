"""The profile's ``notifications`` section: what is valid, what every target gets by default, and
errors that name the field and what would be valid."""
from __future__ import annotations

import pytest

from zoom_sam.profiles import NotifyEvent, ProfileError, load_profile

HEAD = "alias: acme\nzoom_conn_id: zoom_acme\n"


def _load(tmp_path, section: str):
    path = tmp_path / "acme.yaml"
    path.write_text(HEAD + section)
    return load_profile(path)


def _problems(tmp_path, section: str) -> list[str]:
    with pytest.raises(ProfileError) as raised:
        _load(tmp_path, section)
    return raised.value.problems


def test_no_section_means_nobody_is_told(tmp_path):
    notifications = _load(tmp_path, "").notifications
    assert notifications.targets() == [] and notifications.timeout_seconds == 15


def test_a_target_without_events_gets_them_all_and_one_with_events_only_those(tmp_path):
    notifications = _load(tmp_path, """\
notifications:
  webhooks:
    - conn_id: slack_sam
  email:
    - conn_id: smtp_default
      to: [sam-team@example.com, first.last+zoom@mail.example.co.uk]
      events: [guard_stopped, process_failed]
  timeout_seconds: 30
""").notifications
    webhook, email = notifications.targets()
    assert all(webhook.wants(event) for event in NotifyEvent)
    assert [e for e in NotifyEvent if email.wants(e)] == [NotifyEvent.PROCESS_FAILED, NotifyEvent.GUARD_STOPPED]
    assert email.to == ["sam-team@example.com", "first.last+zoom@mail.example.co.uk"]
    assert notifications.timeout_seconds == 30


def test_an_unknown_event_is_refused_with_the_valid_ones(tmp_path):
    [problem] = _problems(tmp_path, "notifications:\n  webhooks:\n    - conn_id: slack_sam\n      events: [approved]\n")
    assert problem.startswith("field 'notifications.webhooks[0].events[0]': Input should be 'approval_waiting', "
                              "'reclaim_done', 'process_failed', 'unrecognized_identifiers' or 'guard_stopped' "
                              "(got 'approved'); valid: a list of events, each once (omitted: all of them): "
                              "approval_waiting (a reclaim waits for Approve)")


@pytest.mark.parametrize("address", ["sam@example", "Sam <sam@example.com>", "sam example.com", "sam@@example.com",
                                     "sam@exa mple.com", ""])
def test_an_invalid_e_mail_address_is_refused(tmp_path, address):
    [problem] = _problems(tmp_path, f"notifications:\n  email:\n    - conn_id: smtp_default\n      to: [{address!r}]\n")
    assert problem == (f"field 'notifications.email[0].to[0]': is not a plain e-mail address (name@example.com, "
                       f"without a display name) (got {address!r}); valid: a list of e-mail addresses "
                       "(name@example.com), each once")


@pytest.mark.parametrize(("section", "expected"), [
    ("  email:\n    - conn_id: smtp_default\n",
     "field 'notifications.email[0].to' is required: a list of e-mail addresses (name@example.com), each once"),
    ("  email:\n    - conn_id: smtp_default\n      to: []\n",
     "field 'notifications.email[0].to': List should have at least 1 item after validation, not 0 (got [])"),
    ("  email:\n    - conn_id: smtp_default\n      to: [a@example.com, a@example.com]\n",
     "field 'notifications.email[0].to': a@example.com listed twice; list each once"),
    ("  webhooks:\n    - conn_id: slack_sam\n      events: [reclaim_done, reclaim_done]\n",
     "field 'notifications.webhooks[0].events': reclaim_done listed twice; list each once"),
    ("  webhooks:\n    - conn_id: slack_sam\n      events: []\n",
     "field 'notifications.webhooks[0].events': List should have at least 1 item after validation, not 0 (got [])"),
    ("  webhooks:\n    - conn_id: slack sam\n",
     "field 'notifications.webhooks[0].conn_id': contains spaces, which an Airflow connection id never has"),
    ("  webhooks:\n    - url: https://hooks.slack.com/services/x\n",
     "field 'notifications.webhooks[0].url' is not a profile field; valid fields here: events, conn_id"),
    ("  timeout_seconds: 600\n",
     "field 'notifications.timeout_seconds': Input should be less than or equal to 120 (got 600); valid: a whole "
     "number of seconds from 1 to 120"),
    ("  sms: []\n",
     "field 'notifications.sms' is not a profile field; valid fields here: webhooks, email, timeout_seconds"),
])
def test_bad_targets_are_refused_naming_the_field_and_the_fix(tmp_path, section, expected):
    problems = _problems(tmp_path, "notifications:\n" + section)
    assert any(p.startswith(expected) for p in problems), problems
