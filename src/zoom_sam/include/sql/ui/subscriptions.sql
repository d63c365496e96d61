-- One page of a profile's software subscriptions matching the filters, with the number of all
-- matches (see jobs.sql for the one-row count side). A filter given as '' (text) or with both
-- include flags set does not filter; q_pattern is a LIKE pattern on the lower-cased email or
-- user id, its wildcards escaped with a backslash. A subscription never active counts as active
-- before any date.
WITH matching AS NOT MATERIALIZED (
    SELECT user_id, identifier, email, software_model, capacity, user_status, active, excluded,
           exclusion_rule, first_seen_at, held_since, last_seen_at, ended_at, last_activity_at, inactive_days
    FROM software_subscription
    WHERE profile_alias = :profile_alias
      AND (:software_model = '' OR software_model = :software_model)
      AND ((active AND :include_active) OR (NOT active AND :include_ended))
      AND (last_activity_at IS NULL OR last_activity_at < :last_activity_before)
      AND (:q_pattern = '' OR lower(email) LIKE :q_pattern ESCAPE '\' OR lower(user_id) LIKE :q_pattern ESCAPE '\')
),
page AS (
    SELECT * FROM matching ORDER BY email, identifier LIMIT :limit OFFSET :offset
)
SELECT t.total, page.*
FROM (SELECT count(*) AS total FROM matching) t
LEFT JOIN page ON 1 = 1
ORDER BY page.email, page.identifier
