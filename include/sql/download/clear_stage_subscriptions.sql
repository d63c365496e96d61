-- Staged subscriptions of a profile: every run's, so a killed try or an abandoned run leaves nothing.
DELETE FROM stage_subscription WHERE profile_alias = :alias
