-- Seats of each software model assigned in the account (active subscriptions, excluded ones
-- included: they are assigned too), the denominator of the max_fraction guard.
SELECT software_model, COUNT(*) AS assigned
FROM software_subscription
WHERE profile_alias = :profile_alias
  AND active = TRUE
GROUP BY software_model
