-- The summary of a profile's subscriptions per software model, after the merge.
SELECT software_model,
       SUM(CASE WHEN active = TRUE THEN 1 ELSE 0 END) AS active,
       SUM(CASE WHEN active = TRUE AND excluded = TRUE THEN 1 ELSE 0 END) AS excluded,
       SUM(CASE WHEN active = FALSE THEN 1 ELSE 0 END) AS ended
FROM software_subscription
WHERE profile_alias = :alias
GROUP BY software_model
ORDER BY software_model
