-- What each simulated threshold would make stale enough to be a candidate at one as-of.
SELECT software_model, threshold_days, candidates, potential_savings
FROM threshold_simulation
WHERE profile_alias = :profile_alias AND as_of = :as_of
ORDER BY software_model, threshold_days
