"""
Provider metadata read by Airflow's ProvidersManager.

Keep this module import-free: Airflow calls it for every provider on every start, and the Airflow 3.2+ UI
builds the ``zoho`` connection form from ``conn-fields`` and ``ui-field-behaviour`` without importing
the hook. ``ZohoOAuthHook.get_connection_form_widgets()`` / ``get_ui_field_behaviour()`` declare the same
form for Airflow 2.11; a unit test keeps the two in agreement.
"""

from __future__ import annotations

#: Zoho data centers: the value stored in the connection, and its accounts server.
DATA_CENTERS = ("com", "eu", "in", "com.au", "jp", "ca", "sa", "uk", "com.cn")
#: The largest ``token_margin_seconds`` (half an hour: a token lives one hour).
TOKEN_MARGIN_MAX_SECONDS = 1800


def get_provider_info() -> dict:
    return {
        "package-name": "airflow-provider-zoho",
        "name": "Zoho",
        "description": "Zoho Apptics and Zoho Desk: OAuth with a token cache shared by every worker, "
        "extraction to object storage, sensors and a local sandbox.",
        "integrations": [
            {
                "integration-name": "Zoho Apptics",
                "external-doc-url": "https://www.zoho.com/apptics/resources/api/overview.html",
                "tags": ["software"],
            },
            {
                "integration-name": "Zoho Desk",
                "external-doc-url": "https://desk.zoho.com/DeskAPIDocument",
                "tags": ["software"],
            },
        ],
        "hooks": [
            {
                "integration-name": "Zoho Apptics",
                "python-modules": [
                    "airflow_provider_zoho.hooks.zoho",
                    "airflow_provider_zoho.hooks.apptics",
                ],
            },
            {"integration-name": "Zoho Desk", "python-modules": ["airflow_provider_zoho.hooks.desk"]},
        ],
        "operators": [
            {
                "integration-name": "Zoho Apptics",
                "python-modules": ["airflow_provider_zoho.operators.apptics"],
            },
            {"integration-name": "Zoho Desk", "python-modules": ["airflow_provider_zoho.operators.desk"]},
        ],
        "sensors": [
            {"integration-name": "Zoho Apptics", "python-modules": ["airflow_provider_zoho.sensors.apptics"]}
        ],
        "triggers": [
            {"integration-name": "Zoho Apptics", "python-modules": ["airflow_provider_zoho.triggers.apptics"]}
        ],
        "connection-types": [
            {
                "connection-type": "zoho",
                "hook-class-name": "airflow_provider_zoho.hooks.zoho.ZohoOAuthHook",
                "hook-name": "Zoho",
                "conn-fields": {
                    "refresh_token": {
                        "label": "Refresh token",
                        "description": "The Self Client refresh token (scopes: JProxy.jmobileapi.ALL for "
                        "Apptics; Desk.tickets.READ,Desk.contacts.READ,Desk.search.READ,Desk.basic.READ "
                        "for Desk).",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                    "data_center": {
                        "label": "Data center",
                        "description": "Where the Zoho account lives: the domain you see in the browser "
                        "(accounts.zoho.<data center>; ca is accounts.zohocloud.ca).",
                        "schema": {"type": ["string", "null"], "default": "com", "enum": list(DATA_CENTERS)},
                    },
                    "portal_id": {
                        "label": "Apptics portal ID",
                        "description": "Sent as the zsoid header (the number after /ac/ in Apptics URLs).",
                        "schema": {"type": ["string", "null"]},
                    },
                    "project_id": {
                        "label": "Apptics project ID",
                        "description": "Sent as the projectid header (the number after /dashboard/).",
                        "schema": {"type": ["string", "null"]},
                    },
                    "accounts_url": {
                        "label": "Accounts URL override",
                        "description": "Optional accounts server root (the hook appends /oauth/v2/token), "
                        "e.g. a proxy or the sandbox.",
                        "schema": {"type": ["string", "null"], "format": "url"},
                    },
                    "apptics_url": {
                        "label": "Apptics URL override",
                        "description": "Optional Apptics server root (the hook appends /cx/api/v1/...).",
                        "schema": {"type": ["string", "null"], "format": "url"},
                    },
                    "desk_org_id": {
                        "label": "Desk organization ID",
                        "description": "Sent as the orgId header on Zoho Desk calls (Desk: Setup, "
                        "Developer Space, API).",
                        "schema": {"type": ["string", "null"]},
                    },
                    "desk_url": {
                        "label": "Desk URL override",
                        "description": "Optional Zoho Desk server root (default desk.zoho.<data center>, "
                        "desk.zohocloud.ca for ca; the hook appends /api/v1/...).",
                        "schema": {"type": ["string", "null"], "format": "url"},
                    },
                    # No schema default: the UI masks values of fields named like secrets ("token"), so a
                    # default would be saved as "***". Empty means the hook's default, 300.
                    "token_margin_seconds": {
                        "label": "Token refresh margin (s)",
                        "description": "Refresh an access token this long before it expires: 0 to "
                        f"{TOKEN_MARGIN_MAX_SECONDS} s (default 300).",
                        "schema": {
                            "type": ["integer", "null"],
                            "minimum": 0,
                            "maximum": TOKEN_MARGIN_MAX_SECONDS,
                        },
                    },
                },
                "ui-field-behaviour": {
                    "hidden-fields": ["host", "schema", "port"],
                    "relabeling": {"login": "Client ID", "password": "Client Secret"},
                    "placeholders": {
                        "login": "1000.XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
                        "portal_id": "766556673",
                        "project_id": "782000000004007",
                        "accounts_url": "https://accounts.zoho.com",
                        "apptics_url": "https://apptics.zoho.com",
                        "desk_org_id": "648638721",
                        "desk_url": "https://desk.zoho.com",
                    },
                },
            }
        ],
    }
