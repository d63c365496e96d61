-- Copy the verdict's last activity and idle days onto software_subscription, the columns reports
-- read. Rows whose values are already right are left alone, so re-running an as-of writes nothing.
-- (a <> b) OR (a IS NULL) <> (b IS NULL) is "a IS DISTINCT FROM b" in a form both back ends parse.
UPDATE software_subscription
SET last_activity_at = e.last_activity_at,
    inactive_days = e.inactive_days
FROM reconcile_evaluation e
WHERE software_subscription.profile_alias = :profile_alias
  AND e.profile_alias = software_subscription.profile_alias
  AND e.user_id = software_subscription.user_id
  AND e.identifier = software_subscription.identifier
  AND (
      software_subscription.last_activity_at <> e.last_activity_at
      OR (software_subscription.last_activity_at IS NULL) <> (e.last_activity_at IS NULL)
      OR software_subscription.inactive_days <> e.inactive_days
      OR (software_subscription.inactive_days IS NULL) <> (e.inactive_days IS NULL)
  )
