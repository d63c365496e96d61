-- One page of a profile's removal candidates matching the filters, newest evaluation first (with
-- the approval request that last listed each and its answer), each joined with its reclaim actions (one output row per action, or one with NULL action columns),
-- and the number of all matching candidates (see jobs.sql for the one-row count side). A text
-- filter given as '' does not filter; as_of_from .. as_of_to bound evaluated_as_of.
WITH matching AS NOT MATERIALIZED (
    SELECT candidate_id, user_id, identifier, email, software_model, state, reason, evidence, threshold_days,
           opened_as_of, evaluated_as_of, closed_at, close_reason, run_id,
           approval_run_id, approval_decision, approval_by, approval_at
    FROM removal_candidate
    WHERE profile_alias = :profile_alias
      AND (:state = '' OR state = :state)
      AND (:software_model = '' OR software_model = :software_model)
      AND (:reason = '' OR reason = :reason)
      AND evaluated_as_of >= :as_of_from AND evaluated_as_of <= :as_of_to
),
page AS (
    SELECT * FROM matching ORDER BY evaluated_as_of DESC, candidate_id DESC LIMIT :limit OFFSET :offset
)
SELECT t.total, page.*,
       a.action_id, a.run_id AS action_run_id, a.action, a.status AS action_status, a.dry_run,
       a.http_status, a.zoom_code, a.zoom_message, a.requested_at, a.completed_at, a.attempts, a.confirmation
FROM (SELECT count(*) AS total FROM matching) t
LEFT JOIN page ON 1 = 1
LEFT JOIN reclaim_action a ON a.profile_alias = :profile_alias AND a.candidate_id = page.candidate_id
ORDER BY page.evaluated_as_of DESC, page.candidate_id DESC, a.action_id
