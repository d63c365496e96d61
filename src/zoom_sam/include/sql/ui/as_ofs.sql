-- The as-ofs a license position exists for, newest first (the primary key's order).
SELECT DISTINCT as_of
FROM license_position
WHERE profile_alias = :profile_alias
ORDER BY as_of DESC
