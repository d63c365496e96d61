"""The warehouse tables: the contract that reports, Finance and the SAM manager read.

Every table is keyed by ``profile_alias`` first, so several integration profiles can share one
warehouse without their rows ever meeting. The metadata carries no schema name: on PostgreSQL
the engine's search_path points at schema ``zoom_sam`` (see ``engine.py``), which keeps the SQL
in ``src/zoom_sam/include/sql/`` identical on SQLite and PostgreSQL.

``SCHEMA_VERSION`` is bumped whenever a table or column changes; ``migrate.py`` knows how to
reach it from every earlier version.
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

SCHEMA_VERSION = 7

metadata = sa.MetaData()


class UtcDateTime(TypeDecorator):
    """Timestamps stored as naive UTC and read back as aware UTC.

    SQLite has no time zone type; storing naive UTC on both back ends keeps comparisons in the
    shared SQL files correct and makes values written by one dialect read the same on the other.
    """

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given where UTC is required")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=timezone.utc)


def _zoom_user_attributes() -> list[sa.Column]:
    """What Zoom says of a user: the same columns in the snapshot being staged and in zoom_user."""
    return [
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("first_name", sa.String(200)),
        sa.Column("last_name", sa.String(200)),
        sa.Column("display_name", sa.String(400)),
        sa.Column("user_type", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("dept", sa.String(200)),
        sa.Column("role_id", sa.String(64)),
        sa.Column("group_ids", sa.JSON),
        sa.Column("user_created_at", UtcDateTime),
        sa.Column("last_login_time", UtcDateTime),
        sa.Column("last_client_version", sa.String(100)),
    ]


def _alias() -> sa.Column:
    return sa.Column("profile_alias", sa.String(64), primary_key=True)


schema_version = sa.Table(
    "schema_version",
    metadata,
    sa.Column("component", sa.String(32), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("applied_at", UtcDateTime, nullable=False),
)

integration_profile = sa.Table(
    "integration_profile",
    metadata,
    _alias(),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("zoom_conn_id", sa.String(250), nullable=False),
    sa.Column("warehouse_conn_id", sa.String(250), nullable=False),
    sa.Column("settings", sa.JSON, nullable=False),
    sa.Column("activity_start", UtcDateTime),
    sa.Column("first_as_of", UtcDateTime),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

zoom_user = sa.Table(
    "zoom_user",
    metadata,
    _alias(),
    # The Zoom user id; pending invitations have none, so they are keyed by their email
    # (Zoom accepts either in /users/{userId}).
    sa.Column("user_id", sa.String(128), primary_key=True),
    *_zoom_user_attributes(),
    sa.Column("present", sa.Boolean, nullable=False),
    sa.Column("first_seen_at", UtcDateTime, nullable=False),
    sa.Column("last_seen_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_zoom_user_email", "profile_alias", "email"),
)

software_model = sa.Table(
    "software_model",
    metadata,
    _alias(),
    sa.Column("software_model", sa.String(128), primary_key=True),
    sa.Column("publisher", sa.String(100), nullable=False),
    sa.Column("product", sa.String(200), nullable=False),
    sa.Column("edition", sa.String(200)),
    sa.Column("capacity", sa.Integer),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("first_seen_at", UtcDateTime, nullable=False),
    sa.Column("last_seen_at", UtcDateTime, nullable=False),
)

subscription_identifier = sa.Table(
    "subscription_identifier",
    metadata,
    _alias(),
    sa.Column("identifier", sa.String(128), primary_key=True),
    sa.Column("software_model", sa.String(128), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("first_seen_at", UtcDateTime, nullable=False),
    sa.Column("last_seen_at", UtcDateTime, nullable=False),
)

unrecognized_subscription_identifier = sa.Table(
    "unrecognized_subscription_identifier",
    metadata,
    _alias(),
    sa.Column("identifier", sa.String(128), primary_key=True),
    sa.Column("subscription_count", sa.Integer, nullable=False),
    sa.Column("first_seen_at", UtcDateTime, nullable=False),
    sa.Column("last_seen_at", UtcDateTime, nullable=False),
)

software_subscription = sa.Table(
    "software_subscription",
    metadata,
    _alias(),
    sa.Column("user_id", sa.String(128), primary_key=True),
    sa.Column("identifier", sa.String(128), primary_key=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("software_model", sa.String(128), nullable=False),
    sa.Column("capacity", sa.Integer),
    sa.Column("user_status", sa.String(16), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("excluded", sa.Boolean, nullable=False),
    sa.Column("exclusion_rule", sa.String(400)),
    sa.Column("first_seen_at", UtcDateTime, nullable=False),
    # The as-of of the snapshot that began the current, unbroken holding (first_seen_at again
    # unless it ended and came back): the inactivity clock of a seat or add-on assigned since
    # the profile's first snapshot starts here. NULL on rows older than the column: first_seen_at.
    sa.Column("held_since", UtcDateTime),
    sa.Column("last_seen_at", UtcDateTime, nullable=False),
    sa.Column("ended_at", UtcDateTime),
    sa.Column("last_activity_at", UtcDateTime),
    sa.Column("inactive_days", sa.Integer),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_software_subscription_model", "profile_alias", "software_model", "active"),
    # The views list a profile's subscriptions page by page in this order (include/sql/ui/subscriptions.sql).
    sa.Index("ix_software_subscription_email", "profile_alias", "email", "identifier"),
)

activity_event = sa.Table(
    "activity_event",
    metadata,
    _alias(),
    sa.Column("event_type", sa.String(32), primary_key=True),
    # Zoom's uuid of the occurrence: one per hosted instance, stable across re-pulls.
    sa.Column("event_id", sa.String(128), primary_key=True),
    sa.Column("user_id", sa.String(128), nullable=False),
    sa.Column("meeting_id", sa.String(64)),
    sa.Column("occurred_at", UtcDateTime, nullable=False),
    sa.Column("duration_minutes", sa.Integer),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("pulled_at", UtcDateTime, nullable=False),
    sa.Index("ix_activity_event_user", "profile_alias", "user_id", "event_type", "occurred_at"),
)

# One row per activity shard sending now: the shards of a sweep divide the account's rate limit
# by the live rows (zoom_sam.activity.shared_rate). Deleted when the shard ends.
sweep_lease = sa.Table(
    "sweep_lease",
    metadata,
    _alias(),
    sa.Column("run_id", sa.String(250), primary_key=True),
    sa.Column("shard", sa.Integer, primary_key=True),
    sa.Column("heartbeat_at", UtcDateTime, nullable=False),
    # The shard sends at 1 / share_divisor of the account's limits (as of its last renewal): a
    # joining shard starts once every other one sends at its new share, not after a fixed wait.
    sa.Column("share_divisor", sa.Integer),
)

activity_coverage = sa.Table(
    "activity_coverage",
    metadata,
    _alias(),
    sa.Column("source", sa.String(32), primary_key=True),
    sa.Column("covered_from", UtcDateTime, nullable=False),
    sa.Column("covered_to", UtcDateTime, nullable=False),
    sa.Column("last_run_id", sa.String(250)),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

entitlement = sa.Table(
    "entitlement",
    metadata,
    _alias(),
    sa.Column("software_model", sa.String(128), primary_key=True),
    sa.Column("purchased", sa.Integer, nullable=False),
    sa.Column("unit_cost", sa.Numeric(12, 2), nullable=False),
    sa.Column("currency", sa.String(3), nullable=False),
)

reclamation_rule = sa.Table(
    "reclamation_rule",
    metadata,
    _alias(),
    sa.Column("rule_index", sa.Integer, primary_key=True),
    sa.Column("software_model_pattern", sa.String(128), nullable=False),
    sa.Column("last_activity_threshold_days", sa.Integer, nullable=False),
    sa.Column("disassociate_pending_invitations", sa.Boolean, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
)

exclusion_rule = sa.Table(
    "exclusion_rule",
    metadata,
    _alias(),
    sa.Column("rule_index", sa.Integer, primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("field", sa.String(32), nullable=False),
    sa.Column("pattern", sa.String(400), nullable=False),
)

removal_candidate = sa.Table(
    "removal_candidate",
    metadata,
    sa.Column("candidate_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("profile_alias", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(128), nullable=False),
    sa.Column("identifier", sa.String(128), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("software_model", sa.String(128), nullable=False),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(64), nullable=False),
    sa.Column("evidence", sa.JSON, nullable=False),
    sa.Column("threshold_days", sa.Integer, nullable=False),
    sa.Column("opened_as_of", UtcDateTime, nullable=False),
    sa.Column("evaluated_as_of", UtcDateTime, nullable=False),
    sa.Column("closed_at", UtcDateTime),
    sa.Column("close_reason", sa.String(400)),
    sa.Column("run_id", sa.String(250)),
    # The reclaim run that wrote an intent for it, and when (zoom_sam.reclaim.journal): another run
    # writes nothing for the candidate while the claim is fresh.
    sa.Column("claimed_by", sa.String(250)),
    sa.Column("claimed_at", UtcDateTime),
    # The approval request that listed it (the run of the approve task, and when it asked), and
    # what the answer decided for it (zoom_sam.vocabulary.ApprovalDecision), who gave it and when:
    # a reclaim in approval mode writes only for candidates its own run's request listed and the
    # answer approved.
    sa.Column("approval_run_id", sa.String(250)),
    sa.Column("approval_requested_at", UtcDateTime),
    sa.Column("approval_decision", sa.String(16)),
    sa.Column("approval_by", sa.String(250)),
    sa.Column("approval_at", UtcDateTime),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Index("ix_removal_candidate_state", "profile_alias", "state"),
    # The candidates of one run's approval request (answer and reclaim read them by run).
    sa.Index("ix_removal_candidate_approval", "profile_alias", "approval_run_id"),
    # A subscription's candidates over time: one per as-of at most, each pointing to the one before.
    sa.Index("ix_removal_candidate_subscription", "profile_alias", "user_id", "identifier", "evaluated_as_of"),
    # The views list candidates newest evaluation first, or those of one as-of (include/sql/ui/candidates.sql).
    sa.Index("ix_removal_candidate_evaluated", "profile_alias", "evaluated_as_of", "candidate_id"),
    # At most one open candidate per subscription: re-runs update it instead of duplicating.
    sa.Index(
        "ux_removal_candidate_open",
        "profile_alias",
        "user_id",
        "identifier",
        unique=True,
        sqlite_where=sa.text("state IN ('ready', 'awaiting_approval', 'attention_required')"),
        postgresql_where=sa.text("state IN ('ready', 'awaiting_approval', 'attention_required')"),
    ),
)

reclaim_action = sa.Table(
    "reclaim_action",
    metadata,
    sa.Column("action_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("profile_alias", sa.String(64), nullable=False),
    sa.Column("candidate_id", sa.Integer, nullable=False),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("user_id", sa.String(128), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("software_model", sa.String(128), nullable=False),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("dry_run", sa.Boolean, nullable=False),
    sa.Column("http_status", sa.Integer),
    sa.Column("zoom_code", sa.Integer),
    sa.Column("zoom_message", sa.String(1000)),
    sa.Column("requested_at", UtcDateTime, nullable=False),
    sa.Column("completed_at", UtcDateTime),
    # How often the request was sent; above 1 only after a state read showed it had not applied.
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    # What a re-read after the 2xx confirmed, or why nothing more than the 2xx could be checked.
    sa.Column("confirmation", sa.String(400)),
    # The approval the write rests on (approval mode; NULL otherwise): the candidate's decision,
    # who answered and when, copied when the row is written so the audit survives a later request.
    sa.Column("approval_decision", sa.String(16)),
    sa.Column("approval_by", sa.String(250)),
    sa.Column("approval_at", UtcDateTime),
    # One intent per candidate and action: a retried task finds it instead of calling twice.
    sa.UniqueConstraint("profile_alias", "candidate_id", "action", "dry_run", name="ux_reclaim_action_once"),
)

license_position = sa.Table(
    "license_position",
    metadata,
    _alias(),
    sa.Column("as_of", UtcDateTime, primary_key=True),
    sa.Column("software_model", sa.String(128), primary_key=True),
    sa.Column("threshold_days", sa.Integer, nullable=False),
    sa.Column("purchased", sa.Integer, nullable=False),
    sa.Column("assigned", sa.Integer, nullable=False),
    sa.Column("active", sa.Integer, nullable=False),
    sa.Column("stale", sa.Integer, nullable=False),
    sa.Column("excluded", sa.Integer, nullable=False),
    sa.Column("reclaimable", sa.Integer, nullable=False),
    sa.Column("unit_cost", sa.Numeric(12, 2)),
    sa.Column("currency", sa.String(3)),
    sa.Column("over_licensed_cost", sa.Numeric(14, 2), nullable=False),
    sa.Column("true_up_cost", sa.Numeric(14, 2), nullable=False),
    sa.Column("potential_savings", sa.Numeric(14, 2), nullable=False),
    sa.Column("actual_savings", sa.Numeric(14, 2), nullable=False),
    sa.Column("dist_0_30", sa.Integer, nullable=False),
    sa.Column("dist_30_60", sa.Integer, nullable=False),
    sa.Column("dist_60_90", sa.Integer, nullable=False),
    sa.Column("dist_90_120", sa.Integer, nullable=False),
    sa.Column("dist_120_plus", sa.Integer, nullable=False),
    sa.Column("dist_never", sa.Integer, nullable=False),
    sa.Column("computed_at", UtcDateTime, nullable=False),
)

threshold_simulation = sa.Table(
    "threshold_simulation",
    metadata,
    _alias(),
    sa.Column("as_of", UtcDateTime, primary_key=True),
    sa.Column("software_model", sa.String(128), primary_key=True),
    sa.Column("threshold_days", sa.Integer, primary_key=True),
    sa.Column("candidates", sa.Integer, nullable=False),
    sa.Column("potential_savings", sa.Numeric(14, 2), nullable=False),
)

# Reconcile's working tables (zoom_sam.reconcile, docs/reconcile.md). ``reconcile_rule`` is the
# rule each software model was reconciled with at each as-of (kept: it explains every position and
# candidate of that as-of, the 60-day default included). ``reconcile_evaluation`` holds the latest
# run's verdict per active subscription; candidates, positions and the threshold simulation are all
# computed from it, which is what keeps them consistent with each other.
reconcile_rule = sa.Table(
    "reconcile_rule",
    metadata,
    _alias(),
    sa.Column("as_of", UtcDateTime, primary_key=True),
    sa.Column("software_model", sa.String(128), primary_key=True),
    sa.Column("rule_index", sa.Integer),
    sa.Column("software_model_pattern", sa.String(128), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("last_activity_threshold_days", sa.Integer, nullable=False),
    sa.Column("disassociate_pending_invitations", sa.Boolean, nullable=False),
    # Which hosting keeps a subscription of this model in use (docs/reconcile.md, "The rule of each model").
    sa.Column("counts_meetings", sa.Boolean, nullable=False),
    sa.Column("counts_webinars", sa.Boolean, nullable=False),
    # as_of - threshold: activity after this instant is "used within the threshold".
    sa.Column("window_start", UtcDateTime, nullable=False),
    # The rule as removal_candidate.evidence quotes it.
    sa.Column("evidence", sa.JSON, nullable=False),
)

reconcile_evaluation = sa.Table(
    "reconcile_evaluation",
    metadata,
    _alias(),
    sa.Column("user_id", sa.String(128), primary_key=True),
    sa.Column("identifier", sa.String(128), primary_key=True),
    sa.Column("as_of", UtcDateTime, nullable=False),
    sa.Column("software_model", sa.String(128), nullable=False),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("user_status", sa.String(16), nullable=False),
    sa.Column("excluded", sa.Boolean, nullable=False),
    sa.Column("threshold_days", sa.Integer, nullable=False),
    sa.Column("user_created_at", UtcDateTime),
    # Set when the subscription was assigned after the profile's first snapshot: its clock start.
    sa.Column("assigned_at", UtcDateTime),
    sa.Column("last_activity_at", UtcDateTime),
    # The start of the known-idle stretch ending at the as-of; NULL when it cannot be known.
    sa.Column("inactive_since", UtcDateTime),
    sa.Column("inactive_days", sa.Integer),
    # excluded | candidate | used | new_account | new_subscription | kept_by_addon | insufficient_history
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(64)),
    sa.Column("evidence", sa.JSON),
    # The threshold simulation counts, per model and threshold, rows with inactive_days >= it.
    sa.Index("ix_reconcile_evaluation_model", "profile_alias", "software_model", "excluded", "inactive_days"),
)

# Staging of download_subscriptions: one run's snapshot is written here in batches while Zoom is
# read, then merged into the tables above in one transaction, so readers never see half a
# snapshot. Keyed by profile and run, so runs of one profile staging at once never meet; a new
# try clears what an earlier, killed try of its run left behind (zoom_sam.subscriptions.staging).
stage_zoom_user = sa.Table(
    "stage_zoom_user",
    metadata,
    _alias(),
    sa.Column("run_id", sa.String(250), primary_key=True),
    sa.Column("user_id", sa.String(128), primary_key=True),
    *_zoom_user_attributes(),
)

stage_subscription = sa.Table(
    "stage_subscription",
    metadata,
    _alias(),
    sa.Column("run_id", sa.String(250), primary_key=True),
    sa.Column("user_id", sa.String(128), primary_key=True),
    sa.Column("identifier", sa.String(128), primary_key=True),
    sa.Column("email", sa.String(320), nullable=False),
    # NULL: no built-in model and no identifier_models entry (lands as unrecognized).
    sa.Column("software_model", sa.String(128)),
    sa.Column("capacity", sa.Integer),
    sa.Column("user_status", sa.String(16), nullable=False),
    sa.Column("excluded", sa.Boolean, nullable=False),
    sa.Column("exclusion_rule", sa.String(400)),
)

# Which try of a run owns the run's staging, and when it last wrote there. A retry takes the run
# over (a stale try can no longer write or merge); staging whose owner stopped writing long ago is
# a dead run's and is removed by the profile's next download.
stage_run = sa.Table(
    "stage_run",
    metadata,
    _alias(),
    sa.Column("run_id", sa.String(250), primary_key=True),
    sa.Column("try_number", sa.Integer, nullable=False),
    sa.Column("owner", sa.String(400), nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("renewed_at", UtcDateTime, nullable=False),
)

# Who holds each warehouse lock of a profile (zoom_sam.warehouse.locks), for the task log of a run
# that waits. The lock itself is a PostgreSQL advisory lock or a file lock, both released when
# their process dies; a row left by a dead holder is overwritten by the next one.
run_lock = sa.Table(
    "run_lock",
    metadata,
    _alias(),
    sa.Column("lock_name", sa.String(32), primary_key=True),
    sa.Column("run_id", sa.String(250), nullable=False),
    sa.Column("task_id", sa.String(250), nullable=False),
    sa.Column("try_number", sa.Integer, nullable=False),
    sa.Column("hostname", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("acquired_at", UtcDateTime, nullable=False),
)

job_result = sa.Table(
    "job_result",
    metadata,
    _alias(),
    sa.Column("run_id", sa.String(250), primary_key=True),
    sa.Column("task_id", sa.String(250), primary_key=True),
    sa.Column("as_of", UtcDateTime),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("try_number", sa.Integer),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("finished_at", UtcDateTime),
    sa.Column("duration_s", sa.Float),
    sa.Column("counts", sa.JSON, nullable=False),
    sa.Column("api", sa.JSON, nullable=False),
    sa.Column("message", sa.Text),
)

# The refresh-token chain of each Zoom connection that uses the refresh_token grant (see
# zoom_sam.zoom.refresh_chain). Keyed by Airflow connection id, not by profile: every profile,
# worker and the API server using one connection share its one chain, which is why it lives in the
# warehouse they all reach. Tokens are Fernet-encrypted with Airflow's key, never stored in clear.
# A row whose refresh_token is NULL is no chain yet: it exists only to be locked (SELECT ... FOR
# UPDATE) while the first one is started.
oauth_token_chain = sa.Table(
    "oauth_token_chain",
    metadata,
    sa.Column("conn_id", sa.String(250), primary_key=True),
    sa.Column("client_id", sa.String(200)),
    sa.Column("oauth_url", sa.String(500)),
    sa.Column("refresh_token", sa.Text),
    sa.Column("access_token", sa.Text),
    sa.Column("access_expires_at", UtcDateTime),
    sa.Column("access_lifetime_s", sa.Float),
    sa.Column("scope", sa.Text),
    sa.Column("api_url", sa.String(500)),
    sa.Column("seed_fingerprint", sa.String(32)),
    sa.Column("rotations", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rotated_at", UtcDateTime),
    sa.Column("exchange_lost_at", UtcDateTime),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# Each "Connect Zoom account" started from the Airflow UI or ``python -m zoom_sam.connect``
# (zoom_sam.connect): the nonce of its signed OAuth ``state``, whom and which connection it was
# issued to, until when it is good, and when it was used. Kept beside the connection's chain, in the
# warehouse every API server worker reaches, so a state works once whichever worker the callback
# lands on. Holds no secret: the state travels in URLs, and PKCE's verifier is derived, not stored.
oauth_connect_state = sa.Table(
    "oauth_connect_state",
    metadata,
    sa.Column("nonce", sa.String(64), primary_key=True),
    sa.Column("conn_id", sa.String(250), nullable=False),
    sa.Column("profile_alias", sa.String(64)),
    sa.Column("issued_to", sa.String(250), nullable=False),
    sa.Column("issued_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime),
    sa.Column("outcome", sa.String(32)),
)

# PostgreSQL gets SQLite's built-in julianday() (days since the Julian epoch, a float), the only
# date arithmetic the shared SQL needs (inactive days, src/zoom_sam/include/sql/reconcile/evaluate.sql): with it
# one statement text serves both back ends. Created with the tables, in the search_path's schema.
sa.event.listen(
    metadata,
    "after_create",
    sa.DDL(
        "CREATE OR REPLACE FUNCTION julianday(ts timestamp) RETURNS double precision "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        "AS $$ SELECT extract(epoch FROM ts)::double precision / 86400.0 + 2440587.5 $$"
    ).execute_if(dialect="postgresql"),
)
