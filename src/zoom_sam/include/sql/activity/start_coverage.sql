-- The profile's first completed window creates its coverage row (one row per profile: the
-- coverage is the profile's, whichever source filled it). A row already there is left to
-- advance_coverage.sql, which runs right after in the same transaction.
-- The CASTs type the parameters of the SELECT list: PostgreSQL (server-side binding, psycopg 3)
-- cannot infer one type for a parameter used both there and in the WHERE clause.
INSERT INTO activity_coverage (profile_alias, source, covered_from, covered_to, last_run_id, updated_at)
SELECT CAST(:alias AS VARCHAR(64)), CAST(:source AS VARCHAR(32)), :window_start, :window_end,
       CAST(:run_id AS VARCHAR(250)), :now
WHERE NOT EXISTS (SELECT 1 FROM activity_coverage WHERE profile_alias = CAST(:alias AS VARCHAR(64)))
ON CONFLICT DO NOTHING
