"""The download_subscriptions process (issue 3): Zoom users and what they hold -> warehouse."""
