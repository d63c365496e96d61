-- States whose time is long over, used or not, are of no further use: a state is checked against
-- its own signed expiry first, so a forgotten one is refused the same way.
DELETE FROM oauth_connect_state
WHERE expires_at < :before
