-- The latest job_result of every task of a profile (a mapped sweep shard is a task of its own,
-- "sweep_activity[0]"): what the overview shows as each process's last run.
SELECT j.task_id, j.run_id, j.as_of, j.status, j.started_at, j.finished_at, j.duration_s, j.counts, j.api, j.message
FROM job_result j
WHERE j.profile_alias = :profile_alias
  AND j.started_at = (
      SELECT max(l.started_at) FROM job_result l
      WHERE l.profile_alias = j.profile_alias AND l.task_id = j.task_id
  )
ORDER BY j.task_id
