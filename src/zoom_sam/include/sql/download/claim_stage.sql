-- A try takes its run's staging over: the first try creates the row, a retry replaces the try
-- before it (which can then neither write a batch nor merge). A try older than the owner takes
-- nothing (rowcount 0): a newer try of the run is already at work.
INSERT INTO stage_run (profile_alias, run_id, try_number, owner, started_at, renewed_at)
VALUES (:alias, :run_id, :try_number, :owner, :now, :now)
ON CONFLICT (profile_alias, run_id) DO UPDATE SET
    try_number = excluded.try_number,
    owner = excluded.owner,
    started_at = excluded.started_at,
    renewed_at = excluded.renewed_at
WHERE stage_run.try_number <= excluded.try_number
