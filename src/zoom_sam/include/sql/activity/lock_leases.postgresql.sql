-- Serialises the shards' lease renewals of one profile until the end of the transaction, so a
-- shard counting the live leases sees every lease written before it (READ COMMITTED would hide
-- one being written at the same moment). SQLite's BEGIN IMMEDIATE serialises them already.
SELECT pg_advisory_xact_lock(hashtext('zoom_sam.sweep_lease'), hashtext(:alias))
