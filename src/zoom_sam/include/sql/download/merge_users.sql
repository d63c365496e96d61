-- The staged user list of one run becomes the latest state of every user it names.
-- first_seen_at is kept; last_seen_at never moves back (a re-run of an older interval sees
-- today's Zoom, but must not pretend the user was last seen earlier).
INSERT INTO zoom_user (
    profile_alias, user_id, email, first_name, last_name, display_name, user_type, status,
    dept, role_id, group_ids, user_created_at, last_login_time, last_client_version,
    present, first_seen_at, last_seen_at, updated_at
)
SELECT
    s.profile_alias, s.user_id, s.email, s.first_name, s.last_name, s.display_name, s.user_type, s.status,
    s.dept, s.role_id, s.group_ids, s.user_created_at, s.last_login_time, s.last_client_version,
    TRUE, :as_of, :as_of, :now
FROM stage_zoom_user AS s
WHERE s.profile_alias = :alias AND s.run_id = :run_id
ON CONFLICT (profile_alias, user_id) DO UPDATE SET
    email = excluded.email,
    first_name = excluded.first_name,
    last_name = excluded.last_name,
    display_name = excluded.display_name,
    user_type = excluded.user_type,
    status = excluded.status,
    dept = excluded.dept,
    role_id = excluded.role_id,
    group_ids = excluded.group_ids,
    user_created_at = excluded.user_created_at,
    last_login_time = excluded.last_login_time,
    last_client_version = excluded.last_client_version,
    present = TRUE,
    last_seen_at = CASE WHEN zoom_user.last_seen_at > excluded.last_seen_at
                        THEN zoom_user.last_seen_at ELSE excluded.last_seen_at END,
    updated_at = excluded.updated_at
