-- The latest job_result of every task of a profile (a mapped sweep shard is a task of its own,
-- "sweep_activity[0]"): what the overview shows as each process's last run. One pass to find each
-- task's latest start, joined back: a year of daily runs is a few thousand rows, read twice.
SELECT j.task_id, j.run_id, j.as_of, j.status, j.started_at, j.finished_at, j.duration_s, j.counts, j.api, j.message
FROM job_result j
JOIN (
    SELECT task_id, max(started_at) AS started_at
    FROM job_result
    WHERE profile_alias = :profile_alias
    GROUP BY task_id
) latest ON latest.task_id = j.task_id AND latest.started_at = j.started_at
WHERE j.profile_alias = :profile_alias
ORDER BY j.task_id
