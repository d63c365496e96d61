-- Users the download listed, per status: a reclaim without GET /users/{id} reads its candidates'
-- records from the same listing, so its budget counts that listing's pages.
SELECT status, COUNT(*) AS users
FROM zoom_user
WHERE profile_alias = :profile_alias
  AND present = TRUE
GROUP BY status
