"""The profile's Zoom connection: its state, "Connect Zoom account" and "Validate connection".

These are the views' only writes, so they are held to more than the read-only pages:

* **who**: connecting changes a connection's credentials, so it needs a user the auth manager lets
  edit both the profile's DAG and its Zoom connection (``PUT``); validating uses the connection's
  stored secret to call Zoom, so it needs what Airflow's own Test button needs (``POST`` and ``GET``
  on the connection). Reading the profile is not enough for either.
* **how**: both start from a POST form. Airflow's session cookie is ``SameSite=Lax``, so another
  site cannot post them with it, and a request a browser marks as coming from another origin
  (``Sec-Fetch-Site``) is refused besides. The callback must be a GET (Zoom redirects the browser to it); the signed,
  expiring, single-use state that binds it to the user who started (``zoom_sam.connect``) is what
  protects it.
* **what shows**: connection ids, grant type, client id, when the chain last rotated and which
  scopes it holds. Never a secret, a code or a token: the chain's columns shown are the ones kept
  in clear for operators.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from airflow.sdk.exceptions import AirflowNotFoundException
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from zoom_sam import connect
from zoom_sam.errors import ZoomSamError
from zoom_sam.hooks.zoom import DEFAULT_TOKEN_STORE_CONN_ID, ZoomHook, mask_secret
from zoom_sam.profiles import Profile
from zoom_sam.ui.access import ReadableProfile, User
from zoom_sam.ui.catalog import all_profiles, warehouse_engine
from zoom_sam.ui.rendering import render
from zoom_sam.warehouse.schema import oauth_token_chain
from zoom_sam.zoom import scopes as sc
from zoom_sam.zoom.connect_state import EXPIRED, FORGED, OTHER_USER, REPLAYED, ConnectState, StateRefused
from zoom_sam.zoom.errors import ZoomAuthError
from zoom_sam.zoom.extras import GRANT_REFRESH_TOKEN

router = APIRouter()

_REFUSED_STATUS = {FORGED: 400, EXPIRED: 400, REPLAYED: 409, OTHER_USER: 403}


def _same_origin(request: Request) -> None:
    """Refuse a form another site, or another host of the same site (which the Lax cookie does not
    stop), made the browser post: what the browser says in ``Sec-Fetch-Site``, when it says it."""
    fetched_from = request.headers.get("sec-fetch-site")
    if fetched_from not in (None, "same-origin", "none"):
        raise HTTPException(403, f"refused: the form was posted from another origin ({fetched_from})")


SameOrigin = Depends(_same_origin)


def _identity(user) -> str:
    return f"airflow:{user.get_id()}"


def may_connect(user, profile: Profile) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import ConnectionDetails, DagDetails

    auth = get_auth_manager()
    return (auth.is_authorized_dag(method="PUT", details=DagDetails(id=profile.dag_id), user=user)
            and auth.is_authorized_connection(method="PUT", details=ConnectionDetails(conn_id=profile.zoom_conn_id),
                                              user=user))


def may_validate(user, profile: Profile) -> bool:
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.models.resource_details import ConnectionDetails

    auth = get_auth_manager()
    details = ConnectionDetails(conn_id=profile.zoom_conn_id)
    return all(auth.is_authorized_connection(method=m, details=details, user=user) for m in ("POST", "GET"))


def _chain_status(store_conn_id: str, conn_id: str) -> dict[str, Any] | None:
    """The chain's clear columns (never its tokens), read like every view: read-only, no migration."""
    with warehouse_engine(store_conn_id).connect() as conn:
        if not sa.inspect(conn).has_table(oauth_token_chain.name):
            return None
        t = oauth_token_chain
        row = conn.execute(sa.select(t.c.client_id, t.c.rotations, t.c.rotated_at, t.c.scope, t.c.exchange_lost_at)
                           .where(t.c.conn_id == conn_id, t.c.refresh_token.is_not(None))).mappings().first()
    if row is None:
        return None
    granted = sc.parse_scope_string(row["scope"])
    return {"client_id": row["client_id"], "rotations": row["rotations"], "rotated_at": _iso(row["rotated_at"]),
            "exchange_lost_at": _iso(row["exchange_lost_at"]), "scopes": sorted(granted),
            "allowed": list(sc.allowed_processes(granted))}


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%SZ") if value else None


def callback_url(request: Request) -> str:
    """The redirect URL registered with the app: from ``[api] base_url`` when set, else as requested."""
    return connect.configured_redirect() or str(request.url_for("connect_callback"))


def connection_panel(request: Request, profile: Profile, user) -> dict[str, Any]:
    """What the profile page shows of its Zoom connection; a problem is shown, never raised."""
    panel: dict[str, Any] = {"conn_id": profile.zoom_conn_id, "callback_url": callback_url(request),
                             "may_connect": may_connect(user, profile), "may_validate": may_validate(user, profile),
                             "flash": request.query_params.get("connect")}
    try:
        config = ZoomHook(profile.zoom_conn_id).get_config()
    except AirflowNotFoundException:
        return {**panel, "problem": f"connection {profile.zoom_conn_id!r} is not defined where the API server runs "
                                    "(an AIRFLOW_CONN_ variable, Airflow's connections or a secrets backend): the "
                                    "profile's runs need it there, and Connect and Validate here need it too"}
    except Exception as exc:  # noqa: BLE001 - an invalid connection is what the panel must say
        return {**panel, "problem": f"{type(exc).__name__}: {exc}"}
    panel.update(grant_type=config.grant_type, client_id=config.client_id,
                 connectable=config.grant_type == GRANT_REFRESH_TOKEN)
    if panel["connectable"]:
        store = config.token_store_conn_id or DEFAULT_TOKEN_STORE_CONN_ID
        panel["token_store"] = store
        try:
            panel["chain"] = _chain_status(store, profile.zoom_conn_id)
        except Exception as exc:  # noqa: BLE001 - an unreachable warehouse must not hide the profile
            panel["problem"] = f"cannot read the refresh-token chain in {store!r}: {type(exc).__name__}: {exc}"
    return panel


def _outcome(request: Request, outcome: str, message: str, status: int, alias: str | None = None) -> Response:
    return render(request, "connect.html", {"outcome": outcome, "message": message, "alias": alias},
                  status_code=status)


@router.post("/profiles/{alias}/connect", name="connect_start", dependencies=[SameOrigin])
def connect_start(request: Request, profile: ReadableProfile, user: User) -> Response:
    """Send the admin to Zoom's consent page with a new state; the callback takes it from there."""
    if not may_connect(user, profile):
        raise HTTPException(403, f"not allowed to edit DAG {profile.dag_id} and connection {profile.zoom_conn_id!r}, "
                                 "so not to connect its Zoom account")
    try:
        started = connect.begin(profile.zoom_conn_id, user=_identity(user), alias=profile.alias,
                                redirect_uri=callback_url(request))
    except Exception as exc:  # noqa: BLE001 - a connection that cannot be connected: say why, change nothing
        return _outcome(request, "refused", f"{type(exc).__name__}: {exc}", 400, profile.alias)
    return RedirectResponse(started.url, status_code=303)


@router.get("/connect/callback", name="connect_callback")
def connect_callback(request: Request, user: User, state: str = "", code: str | None = None,
                     error: str | None = None) -> Response:
    """Where Zoom sends the admin back: check the state, use it once, start the chain."""
    mask_secret(code or "")  # before Airflow's access log writes this request's query string
    alias = None

    def allowed(checked: ConnectState) -> None:
        nonlocal alias
        alias = checked.alias
        profile = next((p for p in all_profiles() if p.alias == checked.alias), None)
        if profile is None or profile.zoom_conn_id != checked.conn_id or not may_connect(user, profile):
            raise HTTPException(403, f"not allowed (any more) to connect connection {checked.conn_id!r} of profile "
                                     f"{checked.alias!r}")

    try:
        connect.finish(state, user=_identity(user), code=code, error=error, allowed=allowed)
    except StateRefused as exc:
        return _outcome(request, exc.reason, f"{exc} Nothing was changed.", _REFUSED_STATUS[exc.reason], alias)
    except connect.ConsentDenied as exc:
        return _outcome(request, "denied", str(exc), 200, alias)
    except ZoomAuthError as exc:
        return _outcome(request, "failed", f"{exc}. Nothing was changed.", 502, alias)
    except (ZoomSamError, ValueError, AirflowNotFoundException) as exc:  # the connection changed meanwhile
        return _outcome(request, "refused", f"{type(exc).__name__}: {exc} Nothing was changed.", 400, alias)
    return RedirectResponse(str(request.url_for("profile_page", alias=alias).include_query_params(connect="connected")),
                            status_code=303)


@router.post("/profiles/{alias}/validate", name="connect_validate", dependencies=[SameOrigin])
def connect_validate(request: Request, profile: ReadableProfile, user: User) -> Response:
    """Airflow's connection test, shown per process: which scopes are granted, which are missing."""
    if not may_validate(user, profile):
        raise HTTPException(403, f"not allowed to test connection {profile.zoom_conn_id!r}")
    try:
        report = ZoomHook(profile.zoom_conn_id).test_report()
    except Exception as exc:  # noqa: BLE001 - the page says what Airflow's Test button would
        return _outcome(request, "invalid", f"Zoom connection failed: {type(exc).__name__}: {exc}", 200, profile.alias)
    granted = report.granted_scopes
    processes = [{"process": p, "allowed": report.allowed.get(p, False),
                  "scopes": [{"scope": s, "granted": sc.has_scope(granted, s)} for s in sc.PROCESS_SCOPES[p]],
                  "missing": list(report.missing_scopes.get(p, ()))} for p in sc.PROCESSES]
    return render(request, "validate.html", {"profile": profile, "report": report, "processes": processes,
                                             "checks": [c.to_dict() for c in report.checks],
                                             "optional": sc.OPTIONAL_SCOPES})
