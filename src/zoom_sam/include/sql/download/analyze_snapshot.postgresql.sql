-- Fresh statistics before the merge: staging was just filled and the target tables may be new.
-- Without them PostgreSQL plans the anti-joins below as nested loops over whole tables
-- (quadratic: minutes at 100,000 users instead of a second).
ANALYZE stage_zoom_user, stage_subscription, zoom_user, software_subscription, unrecognized_subscription_identifier
