-- Software models held in this snapshot were last seen at this run's as-of (never moved back).
UPDATE software_model
SET last_seen_at = :as_of
WHERE profile_alias = :alias
  AND last_seen_at < :as_of
  AND software_model IN (
      SELECT s.software_model FROM stage_subscription AS s
      WHERE s.profile_alias = :alias AND s.run_id = :run_id AND s.software_model IS NOT NULL
  )
