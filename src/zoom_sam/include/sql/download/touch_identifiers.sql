-- Identifiers held in this snapshot were last seen at this run's as-of (never moved back).
UPDATE subscription_identifier
SET last_seen_at = :as_of
WHERE profile_alias = :alias
  AND last_seen_at < :as_of
  AND identifier IN (
      SELECT s.identifier FROM stage_subscription AS s
      WHERE s.profile_alias = :alias AND s.run_id = :run_id AND s.software_model IS NOT NULL
  )
