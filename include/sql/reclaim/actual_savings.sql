-- Realised savings on the license position of the run's as-of, right after its reclaim, counted
-- as reconcile/position.sql counts them: closed_complete candidates of the runs of the year up to
-- this as-of (dated by their run's as-of, evaluated_as_of), per model x unit cost.
UPDATE license_position
SET actual_savings = (
    SELECT round(count(*) * COALESCE(license_position.unit_cost, 0), 2)
    FROM removal_candidate c
    WHERE c.profile_alias = license_position.profile_alias
      AND c.software_model = license_position.software_model
      AND c.state = 'closed_complete'
      AND c.evaluated_as_of > :year_start AND c.evaluated_as_of <= :as_of
)
WHERE profile_alias = :profile_alias
  AND as_of = :as_of
