-- Before each batch, in the batch's transaction: the try still owns its run's staging (rowcount 1),
-- and it is alive as of now. Rowcount 0: a retry took the run over, or the staging was removed as
-- a dead run's; the batch is not written.
UPDATE stage_run
SET renewed_at = :now
WHERE profile_alias = :alias AND run_id = :run_id AND try_number = :try_number
