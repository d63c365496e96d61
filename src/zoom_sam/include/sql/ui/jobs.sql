-- One page of a profile's job results, newest first, with the number of all of them: the count
-- comes from a one-row side that the page is joined to, so a page past the end still tells it.
WITH matching AS NOT MATERIALIZED (
    SELECT run_id, task_id, as_of, status, try_number, started_at, finished_at, duration_s, counts, api, message
    FROM job_result
    WHERE profile_alias = :profile_alias
),
page AS (
    SELECT * FROM matching ORDER BY started_at DESC, task_id LIMIT :limit OFFSET :offset
)
SELECT t.total, page.*
FROM (SELECT count(*) AS total FROM matching) t
LEFT JOIN page ON 1 = 1
ORDER BY page.started_at DESC, page.task_id
