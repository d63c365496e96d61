-- The verdict on every active subscription of a profile as of the run (one row each, into the
-- emptied reconcile_evaluation). Everything else reconcile writes is derived from these rows.
--
-- last_activity_at: the latest hosting before the as-of that counts for the model
--   (reconcile_rule.counts_meetings / counts_webinars: seat = meetings or webinars, webinar
--   add-on = webinars, large-meeting add-on = meetings). Each is one backward index seek on
--   ix_activity_event_user (profile_alias, user_id, event_type, occurred_at).
-- inactive_since: the start of the stretch, ending at the as-of, in which the subscription is
--   KNOWN to have been held and unused = the latest of last activity, the start of the analysed
--   history (activity_coverage) and the account's creation. NULL when nothing is known: no
--   coverage, or coverage ending before the as-of. A pending invitation cannot host, so it is
--   idle since its invitation whatever the coverage.
-- inactive_days: whole days from inactive_since to the as-of. julianday() is SQLite's built-in;
--   PostgreSQL gets the same function from schema.py. Rounding to the millisecond first keeps the
--   float difference from turning exactly 60 days into 59.
-- status: excluded; else candidate when inactive_days >= threshold (the whole rule: idle long
--   enough, account old enough and history complete, because inactive_since is the latest of the
--   three); else used (hosted within the threshold); else new_account (younger than the
--   threshold); else insufficient_history (the analysed history does not span the threshold).
-- Coverage of several sources: complete only where all of them are (latest start, earliest end).
-- held is MATERIALIZED (SQLite 3.35+, PostgreSQL 12+) so the per-subscription index seeks run once:
-- inlined, PostgreSQL would repeat them wherever the later steps use last activity.
WITH coverage AS (
    SELECT max(covered_from) AS covered_from, min(covered_to) AS covered_to
    FROM activity_coverage
    WHERE profile_alias = :profile_alias
),
held AS MATERIALIZED (
    SELECT
        s.profile_alias, s.user_id, s.identifier, s.software_model, s.email, s.user_status, s.excluded,
        u.user_created_at,
        r.last_activity_threshold_days AS threshold_days, r.window_start, r.evidence AS rule_evidence,
        c.covered_from, c.covered_to,
        CASE WHEN r.counts_meetings THEN (
            SELECT max(e.occurred_at) FROM activity_event e
            WHERE e.profile_alias = s.profile_alias AND e.user_id = s.user_id
              AND e.event_type = 'meeting_hosted' AND e.occurred_at < :as_of
        ) END AS last_meeting_at,
        CASE WHEN r.counts_webinars THEN (
            SELECT max(e.occurred_at) FROM activity_event e
            WHERE e.profile_alias = s.profile_alias AND e.user_id = s.user_id
              AND e.event_type = 'webinar_hosted' AND e.occurred_at < :as_of
        ) END AS last_webinar_at
    FROM software_subscription s
    JOIN reconcile_rule r
      ON r.profile_alias = s.profile_alias AND r.as_of = :as_of AND r.software_model = s.software_model
    LEFT JOIN zoom_user u ON u.profile_alias = s.profile_alias AND u.user_id = s.user_id
    CROSS JOIN coverage c
    WHERE s.profile_alias = :profile_alias AND s.active
),
last_activity AS (
    SELECT h.*,
        CASE WHEN h.last_webinar_at IS NULL OR h.last_meeting_at >= h.last_webinar_at
             THEN h.last_meeting_at ELSE h.last_webinar_at END AS last_activity_at
    FROM held h
),
idle AS (
    SELECT l.*,
        CASE
            WHEN l.user_status = 'pending' THEN l.user_created_at
            WHEN l.covered_from IS NULL OR l.covered_to < :as_of THEN NULL
            WHEN l.last_activity_at >= l.covered_from
                 AND (l.user_created_at IS NULL OR l.last_activity_at >= l.user_created_at)
                THEN l.last_activity_at
            WHEN l.user_created_at >= l.covered_from THEN l.user_created_at
            ELSE l.covered_from
        END AS inactive_since
    FROM last_activity l
),
aged AS (
    SELECT i.*,
        CAST(round((julianday(:as_of) - julianday(i.inactive_since)) * 86400000) AS BIGINT) / 86400000
            AS inactive_days
    FROM idle i
),
judged AS (
    SELECT a.*,
        CASE
            WHEN a.excluded THEN 'excluded'
            WHEN a.inactive_days >= a.threshold_days THEN 'candidate'
            WHEN a.last_activity_at > a.window_start THEN 'used'
            WHEN a.user_created_at > a.window_start THEN 'new_account'
            ELSE 'insufficient_history'
        END AS status
    FROM aged a
),
reasoned AS (
    SELECT j.*,
        CASE WHEN j.status = 'candidate' THEN
            CASE WHEN j.user_status = 'pending' THEN 'pending_invitation'
                 WHEN j.last_activity_at IS NULL THEN 'never_hosted'
                 ELSE 'no_hosting_since' END
        END AS reason
    FROM judged j
)
INSERT INTO reconcile_evaluation (
    profile_alias, user_id, identifier, as_of, software_model, email, user_status, excluded,
    threshold_days, user_created_at, last_activity_at, inactive_since, inactive_days, status, reason,
    evidence
)
SELECT
    x.profile_alias, x.user_id, x.identifier, :as_of, x.software_model, x.email, x.user_status, x.excluded,
    x.threshold_days, x.user_created_at, x.last_activity_at, x.inactive_since, x.inactive_days, x.status,
    x.reason,
    -- Evidence, for candidates only: built as JSON text with || and parsed by json(), which both
    -- back ends have (SQLite's function; PostgreSQL's function-style cast to json). Timestamps
    -- print as the first 19 characters of their text form (ISO on both: SQLite stores that text,
    -- PostgreSQL prints it under its default DateStyle ISO) with a T and a Z.
    CASE WHEN x.status = 'candidate' THEN json(
        '{"as_of":"' || replace(substr(CAST(:as_of AS TEXT), 1, 19), ' ', 'T') || 'Z"'
        || ',"reason":"' || x.reason || '"'
        || ',"last_activity_at":'
        || COALESCE('"' || replace(substr(CAST(x.last_activity_at AS TEXT), 1, 19), ' ', 'T') || 'Z"', 'null')
        || ',"inactive_since":'
        || COALESCE('"' || replace(substr(CAST(x.inactive_since AS TEXT), 1, 19), ' ', 'T') || 'Z"', 'null')
        || ',"inactive_days":' || CAST(x.inactive_days AS TEXT)
        || ',"threshold_days":' || CAST(x.threshold_days AS TEXT)
        || ',"rule":' || x.rule_evidence
        || ',"user_status":"' || x.user_status || '"'
        || ',"user_created_at":'
        || COALESCE('"' || replace(substr(CAST(x.user_created_at AS TEXT), 1, 19), ' ', 'T') || 'Z"', 'null')
        || ',"window":{"from":'
        || COALESCE('"' || replace(substr(CAST(x.covered_from AS TEXT), 1, 19), ' ', 'T') || 'Z"', 'null')
        || ',"to":'
        || COALESCE('"' || replace(substr(CAST(
               CASE WHEN x.covered_to IS NULL OR x.covered_to < :as_of THEN x.covered_to ELSE :as_of END AS TEXT), 1, 19), ' ', 'T')
               || 'Z"', 'null')
        || '},"events_seen":{"meeting_hosted":' || CAST((
            SELECT count(*) FROM activity_event e
            WHERE e.profile_alias = x.profile_alias AND e.user_id = x.user_id
              AND e.event_type = 'meeting_hosted' AND e.occurred_at >= x.covered_from AND e.occurred_at < :as_of
        ) AS TEXT)
        || ',"webinar_hosted":' || CAST((
            SELECT count(*) FROM activity_event e
            WHERE e.profile_alias = x.profile_alias AND e.user_id = x.user_id
              AND e.event_type = 'webinar_hosted' AND e.occurred_at >= x.covered_from AND e.occurred_at < :as_of
        ) AS TEXT)
        || '}}'
    ) END
FROM reasoned x
