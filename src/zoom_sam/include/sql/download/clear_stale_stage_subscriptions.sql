-- Staged subscriptions of a profile's dead runs: their owner has not written for the staleness
-- period (or no owner is recorded at all). A live try renews its row with every batch, so its
-- rows are never among these.
DELETE FROM stage_subscription
WHERE profile_alias = :alias
  AND NOT EXISTS (
      SELECT 1 FROM stage_run AS r
      WHERE r.profile_alias = stage_subscription.profile_alias AND r.run_id = stage_subscription.run_id
        AND r.renewed_at >= :stale_before
  )
