-- Users missing from the run's complete listing no longer exist in Zoom (deleted, or a pending
-- invitation that was accepted and now has an id). Their rows stay, marked not present.
UPDATE zoom_user
SET present = FALSE, updated_at = :now
WHERE profile_alias = :alias
  AND present = TRUE
  AND NOT EXISTS (
      SELECT 1 FROM stage_zoom_user AS s
      WHERE s.profile_alias = :alias AND s.run_id = :run_id AND s.user_id = zoom_user.user_id
  )
