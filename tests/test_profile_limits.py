"""Profile values the warehouse could not hold are refused when the file is read, not mid-run."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import yaml

from tests.support.warehouse import warehouse  # noqa: F401  (fixture)
from zoom_sam.licensing import rule_label
from zoom_sam.profile_limits import (
    ALIAS_MAX,
    DISPLAY_NAME_MAX,
    IDENTIFIER_MAX,
    MODEL_KEY_MAX,
    RULE_PATTERN_MAX,
    ZOOM_CONN_ID_MAX,
    exclusion_pattern_max,
)
from zoom_sam.profile_rows import replace_profile_tables, upsert_profile
from zoom_sam.profiles import ProfileError, load_profile
from zoom_sam.warehouse.schema import (
    entitlement,
    exclusion_rule,
    integration_profile,
    reclamation_rule,
    software_subscription,
    subscription_identifier,
)
from zoom_sam.warehouse.upsert import upsert

GOOD = {"alias": "acme", "zoom_conn_id": "zoom_acme"}


def load(tmp_path: Path, **fields):
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump({**GOOD, **fields}, sort_keys=False))
    return load_profile(path)


def refusal(tmp_path: Path, **fields) -> str:
    with pytest.raises(ProfileError) as info:
        load(tmp_path, **fields)
    return str(info.value)


def test_the_limits_are_the_warehouse_columns():
    assert ALIAS_MAX == integration_profile.c.profile_alias.type.length
    assert ZOOM_CONN_ID_MAX == integration_profile.c.zoom_conn_id.type.length
    assert RULE_PATTERN_MAX == reclamation_rule.c.software_model_pattern.type.length
    assert MODEL_KEY_MAX == entitlement.c.software_model.type.length
    assert IDENTIFIER_MAX == subscription_identifier.c.identifier.type.length
    for field in ("email", "identifier"):
        assert exclusion_pattern_max(field) <= exclusion_rule.c.pattern.type.length
        assert len(rule_label(field, "x" * exclusion_pattern_max(field))) == software_subscription.c.exclusion_rule.type.length


RULE = {"software_model": "zoom_*", "last_activity_threshold_days": 60}
ENTITLED = {"software_model": "zoom_meetings_licensed", "purchased": 10, "unit_cost": 149.9}


@pytest.mark.parametrize("fields, field, valid", [
    ({"display_name": "d" * (DISPLAY_NAME_MAX + 1)}, "display_name", f"1 to {DISPLAY_NAME_MAX} characters"),
    ({"display_name": "   "}, "display_name", "is blank"),
    ({"zoom_conn_id": "z" * (ZOOM_CONN_ID_MAX + 1)}, "zoom_conn_id", f"1 to {ZOOM_CONN_ID_MAX} characters"),
    ({"zoom_conn_id": "  "}, "zoom_conn_id", "is blank"),
    ({"zoom_conn_id": ""}, "zoom_conn_id", "is blank"),
    ({"warehouse_conn_id": "my warehouse"}, "warehouse_conn_id", "no spaces"),
    ({"pool": " "}, "pool", "is blank"),
    ({"max_lookback_days": 40_000}, "max_lookback_days", "from 1 to 36,500"),
    ({"activity_retention_days": 10**12}, "activity_retention_days", "from 1 to 36,500"),
    ({"rules": [{**RULE, "last_activity_threshold_days": 999_999_999}]},
     "rules[0].last_activity_threshold_days", "from 1 to 36,500"),
    ({"rules": [{**RULE, "software_model": "z" * (RULE_PATTERN_MAX + 1)}]},
     "rules[0].software_model", f"1 to {RULE_PATTERN_MAX} characters"),
    ({"rules": [{**RULE, "software_model": " "}]}, "rules[0].software_model", "is blank"),
    ({"reclaim": {"max_per_run": 2**31}}, "reclaim.max_per_run", "from 0 to 2,147,483,647"),
    ({"exclusions": {"users": [{"email": "e" * (exclusion_pattern_max("email") + 1)}]}},
     "exclusions.users[0].email", f"1 to {exclusion_pattern_max('email')} characters"),
    ({"exclusions": {"identifiers": ["i" * (exclusion_pattern_max("identifier") + 1)]}},
     "exclusions.identifiers[0]", f"1 to {exclusion_pattern_max('identifier')} characters"),
    ({"entitlements": [{**ENTITLED, "purchased": 2**31}]}, "entitlements[0].purchased", "from 0 to 2,147,483,647"),
    ({"entitlements": [{**ENTITLED, "unit_cost": 10**10}]}, "entitlements[0].unit_cost",
     "from 0 to 9,999,999,999.99"),
    ({"entitlements": [{**ENTITLED, "unit_cost": 1.005}]}, "entitlements[0].unit_cost", "at most 2 decimals"),
    ({"entitlements": [{**ENTITLED, "unit_cost": float("inf")}]}, "entitlements[0].unit_cost", "finite"),
    ({"entitlements": [{**ENTITLED, "currency": "USDX"}]}, "entitlements[0].currency", "ISO 4217"),
    ({"entitlements": [{**ENTITLED, "currency": "UDS"}]}, "entitlements[0].currency", "'UDS' is not an ISO 4217"),
    ({"entitlements": [{**ENTITLED, "purchased": 200_000_000, "unit_cost": 9999}]}, "entitlements[0]",
     "more than the 999,999,999,999.99 the license position's cost columns hold"),
    ({"entitlements": [{**ENTITLED, "software_model": "m" * (MODEL_KEY_MAX + 1)}]},
     "entitlements[0].software_model", f"at most {MODEL_KEY_MAX} characters"),
    ({"identifier_models": {"i" * (IDENTIFIER_MAX + 1): "mine"}}, "identifier_models", f"at most {IDENTIFIER_MAX}"),
    ({"identifier_models": {"zoom_phone": "m" * (MODEL_KEY_MAX + 1)}}, "identifier_models['zoom_phone']",
     f"at most {MODEL_KEY_MAX} characters"),
])
def test_a_value_the_warehouse_cannot_hold_is_refused_with_its_range(tmp_path, fields, field, valid):
    message = refusal(tmp_path, **fields)
    line = next(line for line in message.splitlines() if f"field '{field}" in line)
    assert valid in line


def test_a_long_value_is_quoted_short(tmp_path):
    message = refusal(tmp_path, display_name="d" * 5000)
    assert "(5,000 characters)" in message and "d" * 100 not in message


@pytest.mark.parametrize("text, key, line", [
    ("alias: acme\nzoom_conn_id: a\nzoom_conn_id: b\n", "zoom_conn_id", 3),
    ("alias: acme\nzoom_conn_id: z\nreclaim:\n  mode: dry_run\n  max_per_run: 5\n  mode: automatic\n", "mode", 6),
    ("alias: acme\nzoom_conn_id: z\nrules:\n  - {software_model: a, last_activity_threshold_days: 5,"
     " last_activity_threshold_days: 500}\n", "last_activity_threshold_days", 4),
    ("alias: acme\nzoom_conn_id: z\nidentifier_models:\n  zoom_phone: a\n  zoom_phone: b\n", "zoom_phone", 5),
])
def test_a_key_given_twice_is_refused_with_its_line(tmp_path, text, key, line):
    path = tmp_path / "twice.yaml"
    path.write_text(text)
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    message = str(info.value)
    assert f"at line {line}," in message and f"key {key!r} is given twice" in message


def test_values_at_every_limit_are_stored_by_the_warehouse(tmp_path, warehouse):  # noqa: F811
    """The limits are not too generous: a profile at all of them lands on SQLite and PostgreSQL."""
    email_pattern = "e" * exclusion_pattern_max("email")
    profile = load(
        tmp_path, alias="a" * ALIAS_MAX, display_name="d" * DISPLAY_NAME_MAX, zoom_conn_id="z" * ZOOM_CONN_ID_MAX,
        warehouse_conn_id="w" * ZOOM_CONN_ID_MAX, max_lookback_days=36_500,
        rules=[{"software_model": "r" * RULE_PATTERN_MAX, "last_activity_threshold_days": 36_500}],
        exclusions={"users": [{"email": email_pattern}],
                    "identifiers": ["i" * exclusion_pattern_max("identifier")]},
        entitlements=[{"software_model": "m" * MODEL_KEY_MAX, "purchased": 2**31 - 1, "unit_cost": "465.66",
                       "currency": "EUR"},
                      {"software_model": "cheap", "purchased": 1, "unit_cost": "9999999999.99"}],
    )
    as_of = datetime(2026, 11, 28, tzinfo=timezone.utc)
    with warehouse.engine.begin() as conn:
        upsert_profile(conn, profile, as_of)
        replace_profile_tables(conn, profile, ["m" * MODEL_KEY_MAX])
        upsert(conn, software_subscription, [{
            "profile_alias": profile.alias, "user_id": "u1", "identifier": "user_type:2", "email": "e@example.com",
            "software_model": "m" * MODEL_KEY_MAX, "user_status": "active", "active": True, "excluded": True,
            "exclusion_rule": rule_label("email", email_pattern), "first_seen_at": as_of, "last_seen_at": as_of,
            "updated_at": as_of}])
    assert len(warehouse.rows("entitlement", "software_model")) == 2
    assert [r["pattern"] for r in warehouse.rows("exclusion_rule", "rule_index")][0] == email_pattern
