-- The removal candidates one reclaim run may act on: this profile's, still open, and produced by
-- this run's reconcile (evaluated_as_of = the run's as-of), so a candidate left over from an
-- older run is never acted on before reconcile has looked at it again.
-- Joined with what the exclusion rules and the report need: the user's attributes as last
-- downloaded, the subscription's own exclusion flag, the model's unit cost, and the approval
-- request and answer that listed it (approval mode writes only what its own run's answer approved).
SELECT
    c.candidate_id,
    c.user_id,
    c.identifier,
    c.email,
    c.software_model,
    c.state,
    c.reason,
    c.evidence,
    c.threshold_days,
    c.evaluated_as_of,
    c.approval_run_id,
    c.approval_decision,
    c.approval_by,
    c.approval_at,
    COALESCE(u.status, s.user_status) AS user_status,
    u.dept,
    u.role_id,
    u.group_ids,
    COALESCE(s.excluded, FALSE) AS subscription_excluded,
    s.exclusion_rule AS subscription_exclusion_rule,
    e.unit_cost,
    e.currency
FROM removal_candidate AS c
LEFT JOIN zoom_user AS u
    ON u.profile_alias = c.profile_alias AND u.user_id = c.user_id
LEFT JOIN software_subscription AS s
    ON s.profile_alias = c.profile_alias AND s.user_id = c.user_id AND s.identifier = c.identifier
LEFT JOIN entitlement AS e
    ON e.profile_alias = c.profile_alias AND e.software_model = c.software_model
WHERE c.profile_alias = :profile_alias
  AND c.evaluated_as_of = :as_of
  AND c.state IN (:state_ready, :state_awaiting_approval)
ORDER BY c.user_id, c.candidate_id
