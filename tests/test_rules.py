"""The one rule resolver: which reclamation rule applies to a software model, from the profile
file (the download) or from the rows the download recorded (every later task)."""
from __future__ import annotations

from tests.support.warehouse import warehouse  # noqa: F401  (fixture)

from zoom_sam.profiles import Profile
from zoom_sam.rules import DEFAULT, DEFAULT_THRESHOLD_DAYS, PROFILE, Rule, Rules
from zoom_sam.warehouse.schema import reclamation_rule
from zoom_sam.warehouse.upsert import upsert

ALIAS = "acme"


def _profile(*rules: dict) -> Profile:
    return Profile.model_validate({"alias": ALIAS, "zoom_conn_id": "zoom_test", "rules": list(rules)})


WEBINAR_90 = {"software_model": "zoom_webinar_*", "last_activity_threshold_days": 90}
ANY_30 = {"software_model": "zoom_*", "last_activity_threshold_days": 30, "disassociate_pending_invitations": True}


def test_the_first_matching_rule_wins_in_profile_order():
    rules = Rules.from_profile(_profile(WEBINAR_90, ANY_30))

    webinar = rules.for_model("zoom_webinar_500")
    assert (webinar.threshold_days, webinar.pattern, webinar.source, webinar.rule_index) == (
        90, "zoom_webinar_*", PROFILE, 0)
    assert webinar.disassociate_pending_invitations is False
    seat = rules.for_model("zoom_meetings_licensed")
    assert (seat.threshold_days, seat.source, seat.rule_index, seat.disassociate_pending_invitations) == (
        30, PROFILE, 1, True)
    assert Rules.from_profile(_profile(ANY_30, WEBINAR_90)).for_model("zoom_webinar_500").threshold_days == 30


def test_patterns_are_fnmatch_globs_on_the_whole_key():
    rules = Rules.from_profile(_profile({"software_model": "zoom_p*", "last_activity_threshold_days": 7}))

    assert rules.for_model("zoom_phone").threshold_days == 7
    assert rules.for_model("my_zoom_phone").source == DEFAULT


def test_no_matching_rule_is_the_sixty_day_default_saying_so():
    default = Rules().for_model("zoom_phone")

    assert (default.threshold_days, default.pattern, default.source, default.rule_index) == (
        DEFAULT_THRESHOLD_DAYS, "zoom_phone", DEFAULT, None) == (60, "zoom_phone", "default", None)
    assert default.disassociate_pending_invitations is False


def test_a_recorded_default_row_reads_as_the_default_it_was():
    rules = Rules([Rule(0, "zoom_webinar_*", 90), Rule(1, "zoom_meetings_licensed", 60, source=DEFAULT)])

    seat = rules.for_model("zoom_meetings_licensed")
    assert (seat.threshold_days, seat.pattern, seat.source, seat.rule_index) == (
        60, "zoom_meetings_licensed", DEFAULT, 1)
    assert seat.disassociate_pending_invitations is False
    assert rules.for_model("zoom_phone").rule_index is None  # seen only now: no recorded row


def test_recorded_rows_are_the_profile_rules_then_one_default_per_unmatched_model():
    rows = Rules.from_profile(_profile(WEBINAR_90)).recorded_rows(
        ALIAS, ["zoom_webinar_500", "zoom_phone", "zoom_meetings_licensed", "zoom_phone"])

    assert [(r["rule_index"], r["software_model_pattern"], r["last_activity_threshold_days"], r["source"])
            for r in rows] == [(0, "zoom_webinar_*", 90, PROFILE), (1, "zoom_meetings_licensed", 60, DEFAULT),
                               (2, "zoom_phone", 60, DEFAULT)]


def test_recorded_rules_round_trip_through_the_warehouse(warehouse):  # noqa: F811  (the imported fixture)
    models = ["zoom_webinar_500", "zoom_meetings_licensed", "zoom_large_meeting_500"]
    profile_rules = Rules.from_profile(_profile(WEBINAR_90, {**ANY_30, "software_model": "zoom_large_*"}))
    upsert(warehouse.engine, reclamation_rule, profile_rules.recorded_rows(ALIAS, models))
    upsert(warehouse.engine, reclamation_rule, Rules.from_profile(_profile(ANY_30)).recorded_rows("other", models))

    with warehouse.engine.connect() as conn:
        recorded = Rules.recorded(conn, ALIAS)

    assert [rule.pattern for rule in recorded.rules] == ["zoom_webinar_*", "zoom_large_*", "zoom_meetings_licensed"]
    for model in (*models, "zoom_phone"):
        expected = profile_rules.for_model(model)
        got = recorded.for_model(model)
        assert (got.threshold_days, got.pattern, got.source, got.disassociate_pending_invitations) == (
            expected.threshold_days, expected.pattern, expected.source, expected.disassociate_pending_invitations)
    assert recorded.for_model("zoom_meetings_licensed").rule_index == 2
    assert recorded.recorded_rows(ALIAS, models) == profile_rules.recorded_rows(ALIAS, models)


def test_rules_ignore_rows_of_other_profiles(warehouse):  # noqa: F811  (the imported fixture)
    upsert(warehouse.engine, reclamation_rule,
           Rules.from_profile(_profile(ANY_30)).recorded_rows("other", ["zoom_meetings_licensed"]))

    with warehouse.engine.connect() as conn:
        assert Rules.recorded(conn, ALIAS).for_model("zoom_meetings_licensed").source == DEFAULT
