-- Upcoming events that started before the as-of are no longer upcoming (if hosted, the listing of
-- hosted meetings brings them in as activity).
DELETE FROM upcoming_event
WHERE profile_alias = :alias
  AND start_time < :as_of
