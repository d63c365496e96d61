-- Modelled subscriptions of the snapshot that are not active in the warehouse yet (new or back).
SELECT COUNT(*)
FROM stage_subscription AS s
WHERE s.profile_alias = :alias AND s.run_id = :run_id AND s.software_model IS NOT NULL
  AND NOT EXISTS (
      SELECT 1 FROM software_subscription AS t
      WHERE t.profile_alias = s.profile_alias AND t.user_id = s.user_id
        AND t.identifier = s.identifier AND t.active = TRUE
  )
