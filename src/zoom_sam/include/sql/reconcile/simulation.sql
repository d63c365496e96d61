-- What each threshold would produce, per model: for 15, 30, 45, 60, 90 and 120 days and the
-- model's configured threshold, the subscriptions the rule would make candidates and their cost.
-- The rule at threshold T is exactly "not excluded and inactive_days >= T" (see evaluate.sql:
-- inactive_days already folds in last activity, account age and history), so the row for the
-- configured threshold equals the candidate verdicts of this run.
WITH threshold AS (
    SELECT r.profile_alias, r.as_of, r.software_model, v.column1 AS threshold_days
    FROM reconcile_rule r
    CROSS JOIN (VALUES (15), (30), (45), (60), (90), (120)) v
    WHERE r.profile_alias = :profile_alias AND r.as_of = :as_of
    UNION
    SELECT r.profile_alias, r.as_of, r.software_model, r.last_activity_threshold_days
    FROM reconcile_rule r
    WHERE r.profile_alias = :profile_alias AND r.as_of = :as_of
),
counted AS (
    SELECT t.profile_alias, t.as_of, t.software_model, t.threshold_days, count(e.user_id) AS candidates
    FROM threshold t
    LEFT JOIN reconcile_evaluation e
      ON e.profile_alias = t.profile_alias AND e.software_model = t.software_model
     AND NOT e.excluded AND e.inactive_days >= t.threshold_days
    GROUP BY t.profile_alias, t.as_of, t.software_model, t.threshold_days
)
INSERT INTO threshold_simulation (profile_alias, as_of, software_model, threshold_days, candidates, potential_savings)
SELECT c.profile_alias, c.as_of, c.software_model, c.threshold_days, c.candidates,
       round(c.candidates * COALESCE(en.unit_cost, 0), 2)
FROM counted c
LEFT JOIN entitlement en ON en.profile_alias = c.profile_alias AND en.software_model = c.software_model
