-- Retention: hosted events that started before the cutoff (as-of minus activity_retention_days)
-- leave the warehouse; coverage is trimmed to match (trim_coverage.sql).
DELETE FROM activity_event
WHERE profile_alias = :alias
  AND occurred_at < :cutoff
