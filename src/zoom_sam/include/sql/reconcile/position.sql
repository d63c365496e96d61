-- The license position of every model reconciled at the as-of (models held or entitled), one row each.
--
-- assigned = active subscriptions, excluded ones included; assigned = active + stale + excluded.
-- active = not excluded and used within the threshold; stale = not excluded and not used within it
-- (never-used new accounts and subscriptions without enough history included: they are not in use,
-- they are just not removal candidates). reclaimable = candidate verdicts, less those whose
-- candidate of this as-of has left ready / awaiting_approval (reclaim failed, skipped it or the
-- re-check canceled it): the potential savings are those still open. A candidate reclaimed has
-- ended its subscription, so a re-run of the same as-of after the reclaim gives the same figures.
-- Excluded subscriptions are left out of every cost figure, so the cost basis is
-- assigned - excluded. A model without an entitlement has purchased 0 and no unit cost; its cost
-- figures are 0 because the cost is unknown, not because it is free.
-- actual_savings: closed_complete candidates reclaimed by the runs of the year up to this as-of
-- (year_start is 1 January of the year the run's interval belongs to). A reclaim is dated by the
-- as-of of its run (evaluated_as_of), not by the wall clock, so a re-run or backfill of an old
-- interval reports the same figure.
-- The last-activity distribution counts non-excluded subscriptions by days since last activity
-- (since_N = as-of minus N days; exactly 30 days ago falls in 30-60) or never.
WITH held AS (
    SELECT
        e.software_model,
        count(*) AS assigned,
        sum(CASE WHEN e.excluded THEN 1 ELSE 0 END) AS excluded,
        sum(CASE WHEN e.status = :verdict_used THEN 1 ELSE 0 END) AS active,
        sum(CASE WHEN NOT e.excluded AND e.status <> :verdict_used THEN 1 ELSE 0 END) AS stale,
        sum(CASE WHEN e.status = :verdict_candidate AND rc.candidate_id IS NULL THEN 1 ELSE 0 END) AS reclaimable,
        sum(CASE WHEN NOT e.excluded AND e.last_activity_at > :since_30 THEN 1 ELSE 0 END) AS dist_0_30,
        sum(CASE WHEN NOT e.excluded AND e.last_activity_at <= :since_30 AND e.last_activity_at > :since_60
                 THEN 1 ELSE 0 END) AS dist_30_60,
        sum(CASE WHEN NOT e.excluded AND e.last_activity_at <= :since_60 AND e.last_activity_at > :since_90
                 THEN 1 ELSE 0 END) AS dist_60_90,
        sum(CASE WHEN NOT e.excluded AND e.last_activity_at <= :since_90 AND e.last_activity_at > :since_120
                 THEN 1 ELSE 0 END) AS dist_90_120,
        sum(CASE WHEN NOT e.excluded AND e.last_activity_at <= :since_120 THEN 1 ELSE 0 END) AS dist_120_plus,
        sum(CASE WHEN NOT e.excluded AND e.last_activity_at IS NULL THEN 1 ELSE 0 END) AS dist_never
    FROM reconcile_evaluation e
    LEFT JOIN removal_candidate rc
      ON rc.profile_alias = e.profile_alias AND rc.user_id = e.user_id AND rc.identifier = e.identifier
     AND rc.evaluated_as_of = :as_of AND rc.state NOT IN (:state_ready, :state_awaiting_approval)
    WHERE e.profile_alias = :profile_alias
    GROUP BY e.software_model
),
reclaimed AS (
    SELECT software_model, count(*) AS reclaimed
    FROM removal_candidate
    WHERE profile_alias = :profile_alias AND state = :state_closed_complete
      AND evaluated_as_of > :year_start AND evaluated_as_of <= :as_of
    GROUP BY software_model
),
positioned AS (
    SELECT
        r.profile_alias, r.as_of, r.software_model, r.last_activity_threshold_days AS threshold_days,
        COALESCE(en.purchased, 0) AS purchased,
        COALESCE(h.assigned, 0) AS assigned,
        COALESCE(h.active, 0) AS active,
        COALESCE(h.stale, 0) AS stale,
        COALESCE(h.excluded, 0) AS excluded,
        COALESCE(h.reclaimable, 0) AS reclaimable,
        en.unit_cost, en.currency,
        COALESCE(en.unit_cost, 0) AS cost_each,
        COALESCE(h.assigned, 0) - COALESCE(h.excluded, 0) AS cost_basis,
        COALESCE(rd.reclaimed, 0) AS reclaimed,
        COALESCE(h.dist_0_30, 0) AS dist_0_30,
        COALESCE(h.dist_30_60, 0) AS dist_30_60,
        COALESCE(h.dist_60_90, 0) AS dist_60_90,
        COALESCE(h.dist_90_120, 0) AS dist_90_120,
        COALESCE(h.dist_120_plus, 0) AS dist_120_plus,
        COALESCE(h.dist_never, 0) AS dist_never
    FROM reconcile_rule r
    LEFT JOIN held h ON h.software_model = r.software_model
    LEFT JOIN entitlement en ON en.profile_alias = r.profile_alias AND en.software_model = r.software_model
    LEFT JOIN reclaimed rd ON rd.software_model = r.software_model
    WHERE r.profile_alias = :profile_alias AND r.as_of = :as_of
)
INSERT INTO license_position (
    profile_alias, as_of, software_model, threshold_days, purchased, assigned, active, stale, excluded,
    reclaimable, unit_cost, currency, over_licensed_cost, true_up_cost, potential_savings, actual_savings,
    dist_0_30, dist_30_60, dist_60_90, dist_90_120, dist_120_plus, dist_never, computed_at
)
SELECT
    p.profile_alias, p.as_of, p.software_model, p.threshold_days, p.purchased, p.assigned, p.active, p.stale,
    p.excluded, p.reclaimable, p.unit_cost, p.currency,
    round(CASE WHEN p.purchased > p.cost_basis THEN (p.purchased - p.cost_basis) * p.cost_each ELSE 0 END, 2),
    round(CASE WHEN p.cost_basis > p.purchased THEN (p.cost_basis - p.purchased) * p.cost_each ELSE 0 END, 2),
    round(p.reclaimable * p.cost_each, 2),
    round(p.reclaimed * p.cost_each, 2),
    p.dist_0_30, p.dist_30_60, p.dist_60_90, p.dist_90_120, p.dist_120_plus, p.dist_never, :now
FROM positioned p
