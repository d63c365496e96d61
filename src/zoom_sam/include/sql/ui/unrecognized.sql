-- Identifiers the download found no software model for, the most held first.
SELECT identifier, subscription_count, first_seen_at, last_seen_at
FROM unrecognized_subscription_identifier
WHERE profile_alias = :profile_alias
ORDER BY subscription_count DESC, identifier
