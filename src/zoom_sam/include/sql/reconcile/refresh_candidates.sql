-- Open candidates that are still candidates keep their state and id; their evidence, reason and
-- evaluated_as_of follow the latest verdict. A row already saying exactly that is left alone, so
-- re-running an as-of changes nothing (json has no = on PostgreSQL, hence the text comparison).
UPDATE removal_candidate
SET evaluated_as_of = :as_of,
    email = e.email,
    software_model = e.software_model,
    reason = e.reason,
    threshold_days = e.threshold_days,
    evidence = e.evidence,
    updated_at = :now
FROM reconcile_evaluation e
WHERE removal_candidate.profile_alias = :profile_alias
  AND removal_candidate.state IN (:state_ready, :state_awaiting_approval, :state_attention_required)
  AND e.profile_alias = removal_candidate.profile_alias
  AND e.user_id = removal_candidate.user_id
  AND e.identifier = removal_candidate.identifier
  AND e.status = :verdict_candidate
  AND (
      removal_candidate.evaluated_as_of <> :as_of
      OR removal_candidate.email <> e.email
      OR removal_candidate.software_model <> e.software_model
      OR CAST(removal_candidate.evidence AS TEXT) <> CAST(e.evidence AS TEXT)
  )
