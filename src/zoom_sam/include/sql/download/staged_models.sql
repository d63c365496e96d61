-- The distinct identifiers of one run's snapshot and their models (a few dozen rows at most).
SELECT DISTINCT identifier, software_model
FROM stage_subscription
WHERE profile_alias = :alias AND run_id = :run_id
ORDER BY identifier
