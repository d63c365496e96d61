-- The verdict on every active subscription of a profile as of the run (one row each, into the
-- emptied reconcile_evaluation). Everything else reconcile writes is derived from these rows.
--
-- last_activity_at: the latest hosting before the as-of that counts for the model
--   (reconcile_rule.counts_meetings / counts_webinars: seat = meetings or webinars, webinar
--   add-on = webinars, large-meeting add-on = meetings). Each is one backward index seek on
--   ix_activity_event_user (profile_alias, user_id, event_type, occurred_at).
-- assigned_at: when the subscription's current holding began, if that was after the profile's
--   first snapshot (held_since later than the earliest first_seen_at): a seat or add-on assigned
--   since onboarding, or one that ended and came back. Held since the first snapshot: NULL,
--   because then the analysed history itself is the start of what is known.
-- inactive_since: the start of the stretch, ending at the as-of, in which the subscription is
--   KNOWN to have been held and unused = the latest of last activity, the start of the analysed
--   history (activity_coverage), the account's creation and assigned_at. So a seat assigned
--   yesterday is idle for one day, whatever the account's age. NULL when nothing is known: no
--   coverage, or coverage ending before the as-of. A pending invitation cannot host, so it is
--   idle since its invitation (or its assignment, if later) whatever the coverage.
-- inactive_days: whole days from inactive_since to the as-of. julianday() is SQLite's built-in;
--   PostgreSQL gets the same function from schema.py. Rounding to the millisecond first keeps the
--   float difference from turning exactly 60 days into 59.
-- status: excluded; else candidate when inactive_days >= threshold (the whole rule: idle long
--   enough, account old enough, assigned long enough and history complete, because
--   inactive_since is the latest of them); else used (hosted within the threshold); else
--   new_account (younger than the threshold); else new_subscription (assigned within the
--   threshold); else insufficient_history (the analysed history does not span the threshold).
--   Then kept_by_addon: a seat whose user holds an add-on that needs the seat (webinar, large
--   meeting, Zoom Events) and is not a candidate itself. Downgrading the seat would take that
--   add-on along, so the seat waits until the add-on is idle too (or is excluded no more).
-- Coverage of several sources: complete only where all of them are (latest start, earliest end).
-- held is MATERIALIZED (SQLite 3.35+, PostgreSQL 12+) so the per-subscription index seeks run once:
-- inlined, PostgreSQL would repeat them wherever the later steps use last activity. So are the two
-- one-row aggregates: inlined into a plan that expects few subscriptions (statistics taken before
-- the first snapshot was merged), PostgreSQL re-ran first_snapshot's scan of the profile's
-- subscriptions once per subscription, quadratic: minutes at 100,000 users.
WITH coverage AS MATERIALIZED (
    SELECT max(covered_from) AS covered_from, min(covered_to) AS covered_to
    FROM activity_coverage
    WHERE profile_alias = :profile_alias
),
first_snapshot AS MATERIALIZED (
    SELECT min(first_seen_at) AS first_seen_at
    FROM software_subscription
    WHERE profile_alias = :profile_alias
),
held AS MATERIALIZED (
    SELECT
        s.profile_alias, s.user_id, s.identifier, s.software_model, s.email, s.user_status, s.excluded,
        u.user_created_at,
        COALESCE(s.held_since, s.first_seen_at) AS held_since,
        CASE WHEN COALESCE(s.held_since, s.first_seen_at) > f.first_seen_at
             THEN COALESCE(s.held_since, s.first_seen_at) END AS assigned_at,
        r.last_activity_threshold_days AS threshold_days, r.window_start, r.evidence AS rule_evidence,
        c.covered_from, c.covered_to,
        CASE WHEN r.counts_meetings THEN (
            SELECT max(e.occurred_at) FROM activity_event e
            WHERE e.profile_alias = s.profile_alias AND e.user_id = s.user_id
              AND e.event_type = :event_meeting_hosted AND e.occurred_at < :as_of
        ) END AS last_meeting_at,
        CASE WHEN r.counts_webinars THEN (
            SELECT max(e.occurred_at) FROM activity_event e
            WHERE e.profile_alias = s.profile_alias AND e.user_id = s.user_id
              AND e.event_type = :event_webinar_hosted AND e.occurred_at < :as_of
        ) END AS last_webinar_at
    FROM software_subscription s
    JOIN reconcile_rule r
      ON r.profile_alias = s.profile_alias AND r.as_of = :as_of AND r.software_model = s.software_model
    LEFT JOIN zoom_user u ON u.profile_alias = s.profile_alias AND u.user_id = s.user_id
    CROSS JOIN coverage c
    CROSS JOIN first_snapshot f
    WHERE s.profile_alias = :profile_alias AND s.active
),
last_activity AS (
    SELECT h.*,
        CASE WHEN h.last_webinar_at IS NULL OR h.last_meeting_at >= h.last_webinar_at
             THEN h.last_meeting_at ELSE h.last_webinar_at END AS last_activity_at
    FROM held h
),
known AS (
    -- The latest of the history start (or the invitation, for a pending user), the account's
    -- creation and the assignment: before it, idleness is not known.
    SELECT l.*,
        CASE WHEN l.assigned_at > l.base_since THEN l.assigned_at ELSE l.base_since END AS known_since
    FROM (
        SELECT h.*,
            CASE
                WHEN h.user_status = :user_pending THEN h.user_created_at
                WHEN h.covered_from IS NULL OR h.covered_to < :as_of THEN NULL
                WHEN h.user_created_at >= h.covered_from THEN h.user_created_at
                ELSE h.covered_from
            END AS base_since
        FROM last_activity h
    ) l
),
idle AS (
    SELECT k.*,
        CASE
            WHEN k.known_since IS NULL THEN NULL
            WHEN k.user_status <> :user_pending AND k.last_activity_at >= k.known_since THEN k.last_activity_at
            ELSE k.known_since
        END AS inactive_since
    FROM known k
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
            WHEN a.excluded THEN :verdict_excluded
            WHEN a.inactive_days >= a.threshold_days THEN :verdict_candidate
            WHEN a.last_activity_at > a.window_start THEN :verdict_used
            WHEN a.user_created_at > a.window_start THEN :verdict_new_account
            WHEN a.assigned_at > a.window_start THEN :verdict_new_subscription
            ELSE :verdict_insufficient_history
        END AS verdict
    FROM aged a
),
kept AS (
    -- On every row, the user's first add-on that needs the seat and is not a candidate itself. A
    -- window over the user's rows, not a join to a grouped list: SQLite would scan that list
    -- once per subscription (no index on a CTE), 100,000 x 12,000 comparisons at full size.
    SELECT j.*,
        min(CASE WHEN j.verdict <> :verdict_candidate
                      AND (j.identifier IN ('webinar', 'large_meeting', 'zoom_events')
                           OR j.identifier LIKE 'webinar:%' OR j.identifier LIKE 'large_meeting:%'
                           OR j.identifier LIKE 'zoom_events:%')
                 THEN j.identifier END) OVER (PARTITION BY j.user_id) AS kept_identifier
    FROM judged j
),
decided AS (
    SELECT k.*,
        CASE WHEN k.verdict = :verdict_candidate AND k.identifier = 'user_type:2' AND k.kept_identifier IS NOT NULL
             THEN :verdict_kept_by_addon ELSE k.verdict END AS status
    FROM kept k
),
reasoned AS (
    SELECT j.*,
        CASE WHEN j.status = :verdict_candidate THEN
            CASE WHEN j.user_status = :user_pending THEN :reason_pending_invitation
                 WHEN j.last_activity_at IS NULL THEN :reason_never_hosted
                 ELSE :reason_no_hosting_since END
             WHEN j.status = :verdict_kept_by_addon THEN substr('keeps ' || j.kept_identifier, 1, 64)
        END AS reason
    FROM decided j
)
INSERT INTO reconcile_evaluation (
    profile_alias, user_id, identifier, as_of, software_model, email, user_status, excluded,
    threshold_days, user_created_at, assigned_at, last_activity_at, inactive_since, inactive_days, status,
    reason, evidence
)
SELECT
    x.profile_alias, x.user_id, x.identifier, :as_of, x.software_model, x.email, x.user_status, x.excluded,
    x.threshold_days, x.user_created_at, x.assigned_at, x.last_activity_at, x.inactive_since, x.inactive_days,
    x.status, x.reason,
    -- Evidence, for candidates only: built as JSON text with || and parsed by json(), which both
    -- back ends have (SQLite's function; PostgreSQL's function-style cast to json). Timestamps
    -- print as the first 19 characters of their text form (ISO on both: SQLite stores that text,
    -- PostgreSQL prints it under its default DateStyle ISO) with a T and a Z.
    CASE WHEN x.status = :verdict_candidate THEN json(
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
        || ',"held_since":'
        || COALESCE('"' || replace(substr(CAST(x.held_since AS TEXT), 1, 19), ' ', 'T') || 'Z"', 'null')
        || ',"assigned_after_onboarding":' || CASE WHEN x.assigned_at IS NULL THEN 'false' ELSE 'true' END
        -- The state is compared as an expression so that no planner seeks by it: by
        -- ix_removal_candidate_state, SQLite read every closed candidate of the profile for each
        -- candidate row (quadratic: the reconcile after a 30,000-user reclaim took many minutes);
        -- by the subscription's index it reads that subscription's few candidates.
        || ',"previous_candidate_id":' || COALESCE(CAST((
            SELECT max(rc.candidate_id) FROM removal_candidate rc
            WHERE rc.profile_alias = x.profile_alias AND rc.user_id = x.user_id AND rc.identifier = x.identifier
              AND (rc.state || '') IN (:state_closed_complete, :state_closed_skipped, :state_closed_canceled)
              AND rc.evaluated_as_of < :as_of
        ) AS TEXT), 'null')
        || ',"window":{"from":'
        || COALESCE('"' || replace(substr(CAST(x.covered_from AS TEXT), 1, 19), ' ', 'T') || 'Z"', 'null')
        || ',"to":'
        || COALESCE('"' || replace(substr(CAST(
               CASE WHEN x.covered_to IS NULL OR x.covered_to < :as_of THEN x.covered_to ELSE :as_of END AS TEXT), 1, 19), ' ', 'T')
               || 'Z"', 'null')
        || '},"events_seen":{"' || :event_meeting_hosted || '":' || CAST((
            SELECT count(*) FROM activity_event e
            WHERE e.profile_alias = x.profile_alias AND e.user_id = x.user_id
              AND e.event_type = :event_meeting_hosted AND e.occurred_at >= x.covered_from AND e.occurred_at < :as_of
        ) AS TEXT)
        || ',"' || :event_webinar_hosted || '":' || CAST((
            SELECT count(*) FROM activity_event e
            WHERE e.profile_alias = x.profile_alias AND e.user_id = x.user_id
              AND e.event_type = :event_webinar_hosted AND e.occurred_at >= x.covered_from AND e.occurred_at < :as_of
        ) AS TEXT)
        || '}}'
    ) END
FROM reasoned x
