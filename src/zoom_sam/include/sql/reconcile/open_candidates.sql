-- A new removal candidate for every candidate verdict without a candidate of this as-of or later:
-- state new_state (ready, or awaiting_approval in approval mode). At most one candidate per
-- subscription and as-of: a candidate that this as-of already saw (open, or closed by reclaim or
-- skipped) is not followed by another one until a later as-of, so re-running a date converges.
-- The open one is ruled out by ux_removal_candidate_open too, even if two runs raced. Ordered, so
-- candidate ids are given in the same order on every back end.
INSERT INTO removal_candidate (
    profile_alias, user_id, identifier, email, software_model, state, reason, evidence, threshold_days,
    opened_as_of, evaluated_as_of, run_id, created_at, updated_at
)
SELECT
    e.profile_alias, e.user_id, e.identifier, e.email, e.software_model, :new_state, e.reason, e.evidence,
    e.threshold_days, :as_of, :as_of, :run_id, :now, :now
FROM reconcile_evaluation e
WHERE e.profile_alias = :profile_alias
  AND e.status = :verdict_candidate
  AND NOT EXISTS (
      SELECT 1 FROM removal_candidate rc
      WHERE rc.profile_alias = e.profile_alias
        AND rc.user_id = e.user_id
        AND rc.identifier = e.identifier
        AND (rc.state IN (:state_ready, :state_awaiting_approval, :state_attention_required) OR rc.evaluated_as_of >= :as_of)
  )
ORDER BY e.user_id, e.identifier
