-- In the merge's transaction: the try gives up its run's staging, and merges only when it still
-- owned it (rowcount 1).
DELETE FROM stage_run
WHERE profile_alias = :alias AND run_id = :run_id AND try_number = :try_number
