-- Close one candidate with the outcome of its reclaim. Only an open candidate moves: a row that
-- something else closed meanwhile keeps its state, and the caller sees rowcount 0.
-- closed_at is NULL for attention_required (the candidate still needs a person).
UPDATE removal_candidate
SET state = :state,
    close_reason = :close_reason,
    closed_at = :closed_at,
    updated_at = :now
WHERE candidate_id = :candidate_id
  AND profile_alias = :profile_alias
  AND state IN (:state_ready, :state_awaiting_approval)
