-- Paid things found without a software model, with how many users hold each.
INSERT INTO unrecognized_subscription_identifier (
    profile_alias, identifier, subscription_count, first_seen_at, last_seen_at
)
SELECT s.profile_alias, s.identifier, COUNT(*), :as_of, :as_of
FROM stage_subscription AS s
WHERE s.profile_alias = :alias AND s.run_id = :run_id AND s.software_model IS NULL
GROUP BY s.profile_alias, s.identifier
ON CONFLICT (profile_alias, identifier) DO UPDATE SET
    subscription_count = excluded.subscription_count,
    last_seen_at = CASE WHEN unrecognized_subscription_identifier.last_seen_at > excluded.last_seen_at
                        THEN unrecognized_subscription_identifier.last_seen_at ELSE excluded.last_seen_at END
