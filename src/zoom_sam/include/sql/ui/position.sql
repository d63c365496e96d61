-- The license position of every model at one as-of, as reconcile stored it (position.sql of reconcile).
SELECT software_model, threshold_days, purchased, assigned, active, stale, excluded, reclaimable, unit_cost,
       currency, over_licensed_cost, true_up_cost, potential_savings, actual_savings, dist_0_30, dist_30_60,
       dist_60_90, dist_90_120, dist_120_plus, dist_never, computed_at
FROM license_position
WHERE profile_alias = :profile_alias AND as_of = :as_of
ORDER BY software_model
