-- The software models found for a profile, with their active and ended subscriptions.
SELECT m.software_model, m.publisher, m.product, m.edition, m.capacity, m.source, m.first_seen_at,
       m.last_seen_at,
       (SELECT count(*) FROM software_subscription s
        WHERE s.profile_alias = m.profile_alias AND s.software_model = m.software_model AND s.active)
           AS active_subscriptions
FROM software_model m
WHERE m.profile_alias = :profile_alias
ORDER BY m.software_model
