-- Attach what a re-read of Zoom showed to a reclaim write that already succeeded: the audit
-- trail's confirmation of the write (not a dry run's planned row).
UPDATE reclaim_action
SET confirmation = :confirmation
WHERE profile_alias = :profile_alias
  AND candidate_id = :candidate_id
  AND action = :action
  AND dry_run = FALSE
