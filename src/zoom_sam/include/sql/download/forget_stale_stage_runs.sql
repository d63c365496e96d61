-- The owner rows of a profile's dead runs, once their staged rows are gone.
DELETE FROM stage_run WHERE profile_alias = :alias AND renewed_at < :stale_before
