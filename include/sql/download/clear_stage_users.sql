-- Staged users of a profile: every run's, so a killed try or an abandoned run leaves nothing.
DELETE FROM stage_zoom_user WHERE profile_alias = :alias
