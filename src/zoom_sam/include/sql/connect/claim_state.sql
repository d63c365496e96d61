-- Uses a "Connect Zoom account" state once: the callback (or the headless command) that gets
-- rowcount 1 may exchange the authorization code; 0 means the state was used already, expired, or
-- was never issued for this connection, and nothing else is done with it. Two callbacks carrying
-- the same state race on this row's lock: PostgreSQL re-checks the WHERE on the row the first one
-- committed, SQLite runs one writer at a time.
UPDATE oauth_connect_state
SET used_at = :now,
    outcome = :outcome
WHERE nonce = :nonce
  AND conn_id = :conn_id
  AND used_at IS NULL
  AND expires_at > :now
