-- Leases left behind by shards killed in earlier runs: nothing counts them any more.
DELETE FROM sweep_lease
WHERE profile_alias = :alias
  AND heartbeat_at < :before
