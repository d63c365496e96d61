-- What this run's download read about the users of the as-of's open candidates: each user's
-- status and every subscription they hold now (active), one row per subscription (identifier
-- NULL when the user holds none any more). A dry run plans from these rows instead of reading
-- Zoom again, and a real run's budget counts the reads its re-checks will need from them. A user
-- the download no longer listed has no row.
SELECT
    u.user_id,
    u.status,
    s.identifier,
    s.capacity
FROM zoom_user AS u
LEFT JOIN software_subscription AS s
    ON s.profile_alias = u.profile_alias AND s.user_id = u.user_id AND s.active = TRUE
WHERE u.profile_alias = :profile_alias
  AND u.present = TRUE
  AND u.user_id IN (
      SELECT c.user_id
      FROM removal_candidate AS c
      WHERE c.profile_alias = :profile_alias
        AND c.evaluated_as_of = :as_of
        AND c.state IN (:state_ready, :state_awaiting_approval))
ORDER BY u.user_id
