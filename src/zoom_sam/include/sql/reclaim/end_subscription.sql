-- A confirmed removal ends the candidate's subscription at once, as the next download would: the
-- license position, the holders of the next sweep and every other reader agree with Zoom the same
-- day instead of showing the seat held until tomorrow's snapshot. Only a candidate closed complete
-- ends its subscription, so the statement may run for every candidate a batch meant to close.
-- The subscription is named by its key (the candidate's user and identifier), so each row is one
-- primary-key lookup: correlated with the candidate instead, it scanned every active subscription
-- of the profile, and closing the seats of a reclaim at 100,000 holders took minutes per batch.
UPDATE software_subscription
SET active = FALSE, ended_at = :now, updated_at = :now
WHERE profile_alias = :profile_alias
  AND user_id = :user_id
  AND identifier = :identifier
  AND active = TRUE
  AND EXISTS (
      SELECT 1 FROM removal_candidate rc
      WHERE rc.candidate_id = :candidate_id
        AND rc.profile_alias = :profile_alias
        AND rc.user_id = :user_id
        AND rc.identifier = :identifier
        AND rc.state = :state_closed_complete
  )
