-- The other shards of one sweep sending now (leases renewed within the staleness window: a shard
-- killed outright stops renewing and drops out of the count after it), and how many of them still
-- send at a larger share than one of all the live ones, this shard included (they have not seen
-- every lease yet; a lease without a share, written by an older zoom-sam, counts as larger).
WITH others AS (
    SELECT share_divisor
    FROM sweep_lease
    WHERE profile_alias = :alias
      AND run_id = :run_id
      AND shard <> :shard
      AND heartbeat_at >= :since
)
SELECT (SELECT COUNT(*) FROM others) AS others,
       (SELECT COUNT(*) FROM others
        WHERE COALESCE(share_divisor, 0) < (SELECT COUNT(*) FROM others) + 1) AS faster
