-- The shards of one sweep sending now: leases renewed within the staleness window (a shard
-- killed outright stops renewing and drops out of the count after it).
SELECT COUNT(*)
FROM sweep_lease
WHERE profile_alias = :alias
  AND run_id = :run_id
  AND heartbeat_at >= :since
