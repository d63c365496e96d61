-- Open candidates whose subscription was used within its threshold: closed_canceled. Runs before
-- skip_candidates.sql, which closes every other open candidate the verdict no longer supports.
UPDATE removal_candidate
SET state = :state_closed_canceled,
    close_reason = 'activity_seen',
    closed_at = :now,
    evaluated_as_of = :as_of,
    updated_at = :now
WHERE profile_alias = :profile_alias
  AND state IN (:state_ready, :state_awaiting_approval, :state_attention_required)
  AND EXISTS (
      SELECT 1 FROM reconcile_evaluation e
      WHERE e.profile_alias = removal_candidate.profile_alias
        AND e.user_id = removal_candidate.user_id
        AND e.identifier = removal_candidate.identifier
        AND e.status = :verdict_used
  )
