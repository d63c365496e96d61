"""Airflow provider metadata for zoom-sam.

Airflow registers connection types only from installed *providers* (entry point group
``apache_airflow_provider``); ``pyproject.toml`` points that entry point at
:func:`get_provider_info`. Airflow 3.3 reads the connection-form metadata from the dash-form keys
``conn-fields`` / ``ui-field-behaviour`` below, without importing the hook.

This module is imported by every Airflow process at provider discovery: it must stay free of
imports (no airflow, no requests).
"""
from __future__ import annotations

from typing import Any

PACKAGE_NAME = "zoom-sam"  # the distribution name in pyproject.toml; Airflow checks they match


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": PACKAGE_NAME,
        "name": "Zoom SAM",
        "description": "Software Asset Management for Zoom: the `zoom` connection type and ZoomHook "
        "(Server-to-Server OAuth or admin-managed OAuth with rotating refresh tokens).",
        "versions": ["0.1.0"],
        "connection-types": [
            {
                "connection-type": "zoom",
                "hook-class-name": "zoom_sam.hooks.zoom.ZoomHook",
                "hook-name": "Zoom",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "host": "API base URL",
                        "login": "Client ID",
                        "password": "Client Secret",
                    },
                    "placeholders": {
                        "host": "https://api.zoom.us/v2 (empty = Zoom's global API)",
                        "login": "Client ID of the Zoom app",
                        "password": "Client Secret of the Zoom app",
                        "account_id": "Account ID (Server-to-Server OAuth)",
                        "oauth_url": "https://zoom.us/oauth/token",
                        "extra": '{"account_id": "...", "grant_type": "account_credentials", "plan": "business"}',
                    },
                },
                "conn-fields": {
                    "account_id": {
                        "label": "Account ID",
                        "description": "Zoom account id (required for the account_credentials grant).",
                        "schema": {"type": ["string", "null"]},
                    },
                    "oauth_url": {
                        "label": "OAuth URL",
                        "description": "Token endpoint; default https://zoom.us/oauth/token.",
                        "schema": {"type": ["string", "null"], "format": "url"},
                    },
                    "grant_type": {
                        "label": "Grant type",
                        "description": "account_credentials (Server-to-Server OAuth) or refresh_token "
                        "(admin-managed app; refresh tokens rotate and are stored by zoom-sam).",
                        "schema": {
                            "type": ["string", "null"],
                            "default": "account_credentials",
                            "enum": ["account_credentials", "refresh_token"],
                        },
                    },
                    "plan": {
                        "label": "Zoom plan (rate limits)",
                        "description": "pro: 30/20/10 requests/s (Light/Medium/Heavy); business (and up): "
                        "80/60/40. Overridden by extra rate_limits.",
                        "schema": {
                            "type": ["string", "null"],
                            "default": "business",
                            "enum": ["pro", "business"],
                        },
                    },
                    "refresh_token": {
                        "label": "Initial refresh token",
                        "description": "refresh_token grant only: the first task starts the connection's "
                        "refresh-token chain from it; rotated tokens are kept in the warehouse, not here. "
                        "A new one here replaces a dead chain (reauthorization).",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                    "token_store_conn_id": {
                        "label": "Token store (warehouse connection)",
                        "description": "refresh_token grant only: the warehouse connection whose table "
                        "oauth_token_chain holds this connection's refresh-token chain; default "
                        "zoom_sam_warehouse (absent: the embedded SQLite warehouse).",
                        "schema": {"type": ["string", "null"]},
                    },
                },
            }
        ],
    }
