-- Every modelled subscription of the snapshot is active as of this run, with the user's latest
-- email and status and the exclusion decided for this run. first_seen_at and the activity
-- columns (owned by reconcile) are kept. held_since starts a new unbroken holding: for a row that
-- is new or was ended (downgraded, removed, gone, and now back) it becomes the bound held_since, the
-- as-of of this snapshot but never earlier than the latest snapshot already merged (a backfill's
-- older as-of must not date back an assignment it only saw today); a row still active keeps it.
INSERT INTO software_subscription (
    profile_alias, user_id, identifier, email, software_model, capacity, user_status,
    active, excluded, exclusion_rule, first_seen_at, held_since, last_seen_at, ended_at, updated_at
)
SELECT
    s.profile_alias, s.user_id, s.identifier, s.email, s.software_model, s.capacity, s.user_status,
    TRUE, s.excluded, s.exclusion_rule, :as_of, :held_since, :as_of, NULL, :now
FROM stage_subscription AS s
WHERE s.profile_alias = :alias AND s.run_id = :run_id AND s.software_model IS NOT NULL
ON CONFLICT (profile_alias, user_id, identifier) DO UPDATE SET
    email = excluded.email,
    software_model = excluded.software_model,
    capacity = excluded.capacity,
    user_status = excluded.user_status,
    active = TRUE,
    excluded = excluded.excluded,
    exclusion_rule = excluded.exclusion_rule,
    held_since = CASE WHEN software_subscription.active
                      THEN COALESCE(software_subscription.held_since, software_subscription.first_seen_at)
                      ELSE excluded.held_since END,
    last_seen_at = CASE WHEN software_subscription.last_seen_at > excluded.last_seen_at
                        THEN software_subscription.last_seen_at ELSE excluded.last_seen_at END,
    ended_at = NULL,
    updated_at = excluded.updated_at
