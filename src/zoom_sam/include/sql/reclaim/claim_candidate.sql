-- Compare-and-set before a reclaim run writes anything for a candidate (an intent, an outcome, a
-- confirmation, a closing): the run takes the candidate, or keeps it, only when no other run
-- holds a fresh claim on it. Rowcount 1: the candidate is this run's; 0: another run's (or, for an
-- intent, no longer open), and nothing is written for it.
-- Concurrent runs are decided by the row lock of this UPDATE: PostgreSQL re-checks the WHERE on
-- the row the first run committed; SQLite runs one writer at a time.
UPDATE removal_candidate
SET claimed_by = :run_id,
    claimed_at = :now
WHERE candidate_id = :candidate_id
  AND profile_alias = :profile_alias
  AND (claimed_by IS NULL OR claimed_by = :run_id OR claimed_at < :stale_before)
  AND (state IN (:state_ready, :state_awaiting_approval) OR NOT :open_only)
