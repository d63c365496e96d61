-- The exclusion rules the profile's last run applied, in the profile's order.
SELECT rule_index, kind, field, pattern
FROM exclusion_rule
WHERE profile_alias = :profile_alias
ORDER BY rule_index
