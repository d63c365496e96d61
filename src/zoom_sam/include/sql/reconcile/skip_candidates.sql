-- Open candidates that are no longer candidates for a reason other than use: closed_skipped, with
-- the verdict as the reason (excluded, new_account, insufficient_history), or subscription_ended
-- when the subscription is no longer held (gone from Zoom, user deactivated or downgraded).
UPDATE removal_candidate
SET state = :state_closed_skipped,
    close_reason = COALESCE((
        SELECT e.status FROM reconcile_evaluation e
        WHERE e.profile_alias = removal_candidate.profile_alias
          AND e.user_id = removal_candidate.user_id
          AND e.identifier = removal_candidate.identifier
    ), 'subscription_ended'),
    closed_at = :now,
    evaluated_as_of = :as_of,
    updated_at = :now
WHERE profile_alias = :profile_alias
  AND state IN (:state_ready, :state_awaiting_approval, :state_attention_required)
  AND NOT EXISTS (
      SELECT 1 FROM reconcile_evaluation e
      WHERE e.profile_alias = removal_candidate.profile_alias
        AND e.user_id = removal_candidate.user_id
        AND e.identifier = removal_candidate.identifier
        AND e.status = :verdict_candidate
  )
