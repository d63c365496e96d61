-- Staged users of one run of a profile: what a killed earlier try of the run left behind (before
-- staging), or the snapshot just merged (after the merge). Other runs' rows stay.
DELETE FROM stage_zoom_user WHERE profile_alias = :alias AND run_id = :run_id
