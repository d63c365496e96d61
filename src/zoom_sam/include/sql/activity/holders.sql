-- The holders a sweep reads: active users holding at least one active subscription (the seat or
-- an add-on). Basic and deactivated users hold none and pending invitations cannot host, so none
-- of them costs a call. Per holder:
--   webinar         1 when an active subscription is the webinar add-on ('webinar' or
--                   'webinar:<capacity>'): only those users can list webinars;
--   holder_since    when the user's oldest current holding began: a holder since after the last
--                   completed sweep was not read by it, so its whole analysed history is read once.
SELECT
    user_id,
    MAX(CASE WHEN identifier = 'webinar' OR identifier LIKE 'webinar:%' THEN 1 ELSE 0 END) AS webinar,
    MIN(COALESCE(held_since, first_seen_at)) AS holder_since
FROM software_subscription
WHERE profile_alias = :alias
  AND active = TRUE
  AND user_status = :user_active
GROUP BY user_id
ORDER BY user_id
