"""The threshold simulation says what each threshold would do, and agrees with the real rule."""
from __future__ import annotations

from decimal import Decimal

from tests.reconcile.account import run, table_rows, varied_account, verdicts

from zoom_sam.warehouse.schema import reclamation_rule, threshold_simulation

SEAT = "zoom_meetings_licensed"
WEBINAR = "zoom_webinar_500"
SIMULATED = (15, 30, 45, 60, 90, 120)


def _simulated(engine):
    return {(r["software_model"], r["threshold_days"]): (r["candidates"], r["potential_savings"])
            for r in table_rows(engine, threshold_simulation)}


def test_every_simulated_threshold_matches_the_rule_run_at_that_threshold(account, warehouse):
    varied_account(account)
    run(warehouse.engine)
    simulated = _simulated(warehouse.engine)
    assert {t for _, t in simulated} == set(SIMULATED)

    for threshold in SIMULATED:
        with warehouse.engine.begin() as conn:
            conn.execute(reclamation_rule.delete())
            conn.execute(reclamation_rule.insert().values(
                profile_alias="acme", rule_index=0, software_model_pattern="*", last_activity_threshold_days=threshold,
                disassociate_pending_invitations=False, source="profile"))
        summary = run(warehouse.engine)
        found = verdicts(warehouse.engine)
        for model, identifier, cost in ((SEAT, "user_type:2", Decimal("149.90")), (WEBINAR, "webinar:500", Decimal("690.00"))):
            actual = sum(1 for (_, i), v in found.items() if i == identifier and v == "candidate")
            assert simulated[(model, threshold)] == (actual, actual * cost), (model, threshold)
        assert summary["verdicts"]["candidate"] == sum(simulated[(m, threshold)][0] for m in (SEAT, WEBINAR))


def test_simulation_counts_grow_as_the_threshold_shrinks(account, warehouse):
    varied_account(account)
    run(warehouse.engine)
    simulated = _simulated(warehouse.engine)

    seat = [simulated[(SEAT, t)][0] for t in SIMULATED]
    assert seat == sorted(seat, reverse=True)
    # 120 days: only the invitation is old enough; history covers 100 days.
    assert simulated[(SEAT, 120)][0] == 1


def test_a_configured_threshold_outside_the_simulated_set_gets_its_own_row(account, warehouse):
    account.rule(0, "zoom_*", 75)
    varied_account(account)

    run(warehouse.engine)

    simulated = _simulated(warehouse.engine)
    candidates = sum(1 for (_, i), v in verdicts(warehouse.engine).items() if i == "user_type:2" and v == "candidate")
    assert simulated[(SEAT, 75)][0] == candidates
