-- What the account owns of each model, as the profile's last run recorded it.
SELECT software_model, purchased, unit_cost, currency
FROM entitlement
WHERE profile_alias = :profile_alias
ORDER BY software_model
