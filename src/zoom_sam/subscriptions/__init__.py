"""The download_subscriptions process: Zoom users and what they hold -> warehouse."""
