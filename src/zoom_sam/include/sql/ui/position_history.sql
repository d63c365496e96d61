-- Assigned and used (active) subscriptions of every model at every as-of up to the chosen one.
SELECT as_of, software_model, assigned, active
FROM license_position
WHERE profile_alias = :profile_alias AND as_of <= :as_of
ORDER BY as_of, software_model
