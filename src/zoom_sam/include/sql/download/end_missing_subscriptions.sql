-- Active subscriptions the snapshot no longer holds (downgraded, add-on removed, user gone or
-- deactivated, identifier no longer mapped) become inactive as of this run. Never deleted:
-- their history (first seen, last activity) stays explainable.
UPDATE software_subscription
SET active = FALSE, ended_at = :as_of, updated_at = :now
WHERE profile_alias = :alias
  AND active = TRUE
  AND NOT EXISTS (
      SELECT 1 FROM stage_subscription AS s
      WHERE s.profile_alias = :alias AND s.run_id = :run_id AND s.software_model IS NOT NULL
        AND s.user_id = software_subscription.user_id AND s.identifier = software_subscription.identifier
  )
