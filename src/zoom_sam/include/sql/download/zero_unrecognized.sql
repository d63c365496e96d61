-- Identifiers no longer unrecognized in this snapshot (mapped by the profile since, or nobody
-- holds them any more) keep their row for history with a count of 0.
UPDATE unrecognized_subscription_identifier
SET subscription_count = 0
WHERE profile_alias = :alias
  AND subscription_count <> 0
  AND NOT EXISTS (
      SELECT 1 FROM stage_subscription AS s
      WHERE s.profile_alias = :alias AND s.run_id = :run_id AND s.software_model IS NULL
        AND s.identifier = unrecognized_subscription_identifier.identifier
  )
