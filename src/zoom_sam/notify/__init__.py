"""Notifications: telling a profile's people when something in its run needs them.

Plain library code, no scheduler needed: :mod:`.messages` turns what a task found into message
text, :mod:`.redaction` keeps secrets out of it, :mod:`.send` delivers it to the profile's targets
through the Airflow HTTP and SMTP providers' notifiers, and :mod:`.tasks` is the one entry the
operators' base calls, after a process finished and when a task failed for good.
"""
