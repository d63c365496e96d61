"""How large a profile's values may be, read from the warehouse columns they land in.

SQLite stores a string of any length and an integer of any size; PostgreSQL refuses them, and
then every run of the profile fails the same way. The profile model refuses such values when the
file is read instead. The string limits are the lengths of the columns in
:mod:`zoom_sam.warehouse.schema`, so a column that grows lets its profile value grow with it.
"""
from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from zoom_sam.licensing import rule_label
from zoom_sam.warehouse.schema import (
    entitlement,
    exclusion_rule,
    integration_profile,
    license_position,
    reclamation_rule,
    reconcile_rule,
    software_model,
    software_subscription,
    stage_subscription,
    subscription_identifier,
)


def room(*columns: sa.Column) -> int:
    """The longest string every one of ``columns`` holds."""
    return min(column.type.length for column in columns)


ALIAS_MAX = room(integration_profile.c.profile_alias)
DISPLAY_NAME_MAX = room(integration_profile.c.display_name)
ZOOM_CONN_ID_MAX = room(integration_profile.c.zoom_conn_id)
WAREHOUSE_CONN_ID_MAX = room(integration_profile.c.warehouse_conn_id)
MODEL_KEY_MAX = room(software_model.c.software_model, entitlement.c.software_model)
RULE_PATTERN_MAX = room(reclamation_rule.c.software_model_pattern, reconcile_rule.c.software_model_pattern)
IDENTIFIER_MAX = room(subscription_identifier.c.identifier)
CURRENCY_LENGTH = room(entitlement.c.currency)

#: PostgreSQL INTEGER, the type of every whole-number column a profile value reaches.
INT_MAX = 2**31 - 1

#: Days are subtracted from a run's as-of (rule windows, the lookback, the retention cut-off).
#: A century stays inside the dates Python, SQLite and PostgreSQL hold from any as-of after the
#: year 100, and is longer than any history Zoom keeps.
MAX_DAYS = 36_500

UNIT_COST_DIGITS = entitlement.c.unit_cost.type.precision
UNIT_COST_DECIMALS = entitlement.c.unit_cost.type.scale


def _numeric_max(column: sa.Column) -> Decimal:
    kind = column.type
    return Decimal(10) ** (kind.precision - kind.scale) - Decimal(1).scaleb(-kind.scale)


UNIT_COST_MAX = _numeric_max(entitlement.c.unit_cost)
#: The license position's cost columns (over-licensed cost = unused purchased seats x unit cost).
COST_TOTAL_MAX = _numeric_max(license_position.c.over_licensed_cost)


def exclusion_pattern_max(field: str) -> int:
    """The longest pattern of an exclusion rule on ``field``.

    The rule row holds the pattern, and every subscription it excludes records it as
    ``field=pattern``, which must fit too.
    """
    label = len(rule_label(field, ""))
    return min(room(exclusion_rule.c.pattern),
               room(software_subscription.c.exclusion_rule, stage_subscription.c.exclusion_rule) - label)
