-- The activity history complete for every source the profile pulls: the latest start and the
-- earliest end of the sources' coverage (NULLs when nothing was pulled yet).
SELECT max(covered_from) AS covered_from, min(covered_to) AS covered_to
FROM activity_coverage
WHERE profile_alias = :profile_alias
